namespace Gateway.Caching;

/// <summary>
/// The producer: one one-shot timer per dataset on the injected <see cref="TimeProvider"/>, due at once on
/// start, re-armed after each refresh (the interval, or the back-off after a failure, both jittered). A due
/// timer offers a job to the <see cref="RefreshQueue"/> and never waits: a duplicate is dropped (the running
/// refresh re-arms the timer when it ends), a job the full channel refuses is offered again after the
/// first back-off step.
/// </summary>
internal sealed class RefreshScheduler : IHostedLifecycleService, IDisposable
{
    private readonly DatasetRegistry _datasets;
    private readonly RefreshQueue _queue;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Func<double> _random;
    // A copy taken from the shared store past its due time is not looked at again in a busy loop.
    private static readonly TimeSpan MinDelay = TimeSpan.FromMilliseconds(1);

    private readonly ITimer?[] _timers;
    private readonly Lock _lock = new();
    private bool _stopped;

    public RefreshScheduler(DatasetRegistry datasets, RefreshQueue queue, TimeProvider timeProvider, ILogger<RefreshScheduler> logger, Func<double>? random = null)
    {
        _datasets = datasets;
        _queue = queue;
        _timeProvider = timeProvider;
        _logger = logger;
        _random = random ?? Random.Shared.NextDouble;
        _timers = new ITimer?[datasets.All.Count];
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var dataset in _datasets.All)
        {
            if (!dataset.IsUsed)
            {
                Log.DatasetUnused(_logger, dataset.Name);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Arms the timers once every hosted service has started, the server included: a downstream served by
    /// this very process (the demo) is listening by then, and nothing is lost for the others (readiness waits
    /// for the first loads either way).
    /// </summary>
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            foreach (var dataset in _datasets.All)
            {
                dataset.ScheduledAt(_timeProvider.GetTimestamp());
                _timers[dataset.Index] = _timeProvider.CreateTimer(static s => ((Due)s!).Fire(), new Due(this, dataset), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }

            // Armed once all exist: a timer that fires at once may already re-arm itself.
            foreach (var timer in _timers)
            {
                timer!.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
            }
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Stop();
        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Queues a refresh of <paramref name="dataset"/> now (management), from the downstream even when a shared copy is current; the schedule goes on from when it ends.</summary>
    public Enqueued RefreshNow(CachedDataset dataset)
    {
        dataset.Force();
        return _queue.TryEnqueue(dataset);
    }

    /// <summary>A refresh of <paramref name="dataset"/> ended: arms its next one (interval, or back-off after failures).</summary>
    public void Rearm(CachedDataset dataset) => Rearm(dataset, RefreshEnd.Scheduled);

    /// <summary>
    /// A refresh of <paramref name="dataset"/> ended as <paramref name="end"/> says: after a fixed delay, or after the
    /// interval (or back-off) jittered, less the age the copy already had when it came from the shared store.
    /// </summary>
    public void Rearm(CachedDataset dataset, RefreshEnd end)
    {
        var delay = end.Delay ?? dataset.Definition.NextDelay(dataset.FailuresInRow, _random()) - end.Age;
        Arm(dataset, delay < MinDelay ? MinDelay : delay);
    }

    public void Dispose() => Stop();

    private void Fire(CachedDataset dataset)
    {
        if (_queue.TryEnqueue(dataset) == Enqueued.QueueFull)
        {
            var delay = dataset.Definition.RetryDelay(1);
            Log.RefreshQueueFull(_logger, dataset.Name, (long)delay.TotalMilliseconds);
            Arm(dataset, delay);
        }
    }

    private void Arm(CachedDataset dataset, TimeSpan delay)
    {
        lock (_lock)
        {
            if (_stopped || _timers[dataset.Index] is not { } timer)
            {
                return;
            }

            // Exact for whole ticks: the due time shown must be when the timer fires, not a tick before. Shown once the
            // timer is armed: whoever reads it (a test about to advance fake time to it) finds the timer set for it.
            var dueAt = _timeProvider.GetTimestamp() + (long)((Int128)delay.Ticks * _timeProvider.TimestampFrequency / TimeSpan.TicksPerSecond);
            timer.Change(delay, Timeout.InfiniteTimeSpan);
            dataset.ScheduledAt(dueAt);
        }
    }

    private void Stop()
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            for (var i = 0; i < _timers.Length; i++)
            {
                _timers[i]?.Dispose();
                _timers[i] = null;
            }
        }

        foreach (var dataset in _datasets.All)
        {
            dataset.ScheduledAt(long.MaxValue);
        }

        _queue.Complete();
    }

    private sealed class Due(RefreshScheduler scheduler, CachedDataset dataset)
    {
        public void Fire() => scheduler.Fire(dataset);
    }
}
