namespace Gateway.Caching;

/// <summary>
/// The consumers: a fixed number of loops (<c>Gateway:Refresh:Workers</c>) taking refresh jobs off the
/// <see cref="RefreshQueue"/>. Each refresh ends by re-arming its dataset's timer. Stopping cancels the
/// refreshes in flight, ends the loops and gives up the shared-store leases this instance holds.
/// </summary>
internal sealed class RefreshWorkers(RefreshQueue queue, DatasetRefresher refresher, RefreshScheduler scheduler, int workers, DatasetRegistry? datasets = null) : BackgroundService
{
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (refresher.Sharing is { } sharing && datasets is not null)
        {
            await sharing.ReleaseLeasesAsync(datasets.All, cancellationToken).ConfigureAwait(false);
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loops = new Task[workers];
        for (var i = 0; i < loops.Length; i++)
        {
            loops[i] = RunAsync(stoppingToken);
        }

        return Task.WhenAll(loops);
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        // Off the caller's thread: StartAsync must not run the first refreshes inline.
        await Task.Yield();
        try
        {
            await foreach (var dataset in queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                var end = RefreshEnd.Scheduled;
                try
                {
                    end = await refresher.RefreshAsync(dataset, stoppingToken).ConfigureAwait(false);
                }
                finally
                {
                    // Pending cleared first: a timer due in between then queues a refresh rather than being dropped unarmed.
                    dataset.ClearPending();
                    if (!stoppingToken.IsCancellationRequested)
                    {
                        scheduler.Rearm(dataset, end);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown while waiting for a job.
        }
    }
}
