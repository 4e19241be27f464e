using Gateway.Downstream;
using Gateway.Model;
using Gateway.Telemetry;

namespace Gateway.Caching;

/// <summary>
/// One refresh of a dataset, through the invoker every downstream call takes (<see cref="DownstreamInvoker"/>):
/// the cluster's concurrency limit, its resilience pipeline and YARP's destinations, balancing and health, the
/// body cap and the JSON check. A good body replaces the copy; anything else keeps the last good one. With a shared store
/// (<see cref="DatasetSharing"/>) the store decides first whether this instance calls the downstream at all.
/// </summary>
internal sealed class DatasetRefresher(DownstreamInvoker invoker, TimeProvider timeProvider, ILogger<DatasetRefresher> logger, GatewayMetrics metrics, DatasetSharing? sharing = null)
{
    private static readonly KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>[] NoHeaders = [];

    /// <summary>The store, when instances share their datasets.</summary>
    public DatasetSharing? Sharing => sharing;

    /// <summary>Refreshes <paramref name="dataset"/>; <paramref name="stopping"/> (shutdown) cancels it. Says when the next refresh is due. Never throws but for a bug.</summary>
    public async Task<RefreshEnd> RefreshAsync(CachedDataset dataset, CancellationToken stopping)
    {
        if (sharing is null)
        {
            await CallAsync(dataset, stopping).ConfigureAwait(false);
            return RefreshEnd.Scheduled;
        }

        var decision = await sharing.DecideAsync(dataset, stopping).ConfigureAwait(false);
        switch (decision.Step)
        {
            case SharingStep.UpToDate:
                return RefreshEnd.CopyAged(decision.Age);
            case SharingStep.Follow:
                return RefreshEnd.After(dataset.Definition.FollowDelay);
        }

        var loaded = await CallAsync(dataset, stopping).ConfigureAwait(false);
        if (decision.Step == SharingStep.Lead)
        {
            await (loaded ? sharing.ShareAsync(dataset, stopping) : sharing.RefreshFailedAsync(dataset, stopping)).ConfigureAwait(false);
        }

        return RefreshEnd.Scheduled;
    }

    /// <summary>Calls the downstream through the invoker; true when a good copy was loaded.</summary>
    private async Task<bool> CallAsync(CachedDataset dataset, CancellationToken stopping)
    {
        var definition = dataset.Definition;
        var started = timeProvider.GetTimestamp();
        var span = GatewayActivities.StartRefresh(dataset.Name);
        var result = (await invoker.InvokeAsync(new CallSpec(definition.Downstream, definition.Messages, definition.Address, NoHeaders, definition.Timeout, started, new StopOnShutdown(stopping))
        {
            Caller = definition.Caller,
            Span = span,
        }).ConfigureAwait(false)).Result;

        var outcome = result.Outcome;
        if (outcome == SourceOutcome.Ok)
        {
            // The copy outlives the request that read it: out of the pool into an array of its own.
            var body = result.Body!;
            var utf8 = body.Span.ToArray();
            body.Release();
            dataset.Loaded(utf8, result.Status!.Value, timeProvider.GetTimestamp(), timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        }

        GatewayActivities.EndRefresh(span, outcome.ToName());
        metrics.RecordRefresh(dataset.Name, outcome.ToName());
        if (outcome != SourceOutcome.Ok)
        {
            dataset.Failed(outcome, result.Message!, timeProvider.GetTimestamp());
            if (outcome != SourceOutcome.Cancelled)
            {
                Log.RefreshFailed(logger, dataset.Name, outcome.ToName(), result.Message!, dataset.FailuresInRow);
            }
        }
        else
        {
            Log.Refreshed(logger, dataset.Name, dataset.Copy?.Body.Length ?? 0, (long)timeProvider.GetElapsedTime(started).TotalMilliseconds);
        }

        return outcome == SourceOutcome.Ok;
    }
}
