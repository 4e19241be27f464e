using System.Diagnostics;
using Gateway.Caching;
using Gateway.Downstream;
using Gateway.Model;
using Microsoft.Extensions.Primitives;

namespace Gateway.Aggregation;

internal sealed partial class FanOutExecutor
{
    /// <summary>
    /// A source with the response cache in front: a stored answer when there is one (fresh, or stale inside a
    /// window), else one downstream call shared by every request waiting for the same key. A request with
    /// <c>Authorization</c> makes a plain call unless the source allows caching it.
    /// </summary>
    private ValueTask<CallAnswer> CallCachedAsync(FanOutRun run, int index)
    {
        var policy = run.Plan.Definition.Sources[index].Cache!;
        if (responseCache is null || (!StringValues.IsNullOrEmpty(run.Request.Authorization) && !policy.CacheAuthorized))
        {
            return CallAsync(run, index);
        }

        return new(LookUpAsync(run, index, responseCache));
    }

    private async Task<CallAnswer> LookUpAsync(FanOutRun run, int index, ResponseCache responseCache)
    {
        var plan = run.Plan;
        var source = plan.Definition.Sources[index];
        var policy = source.Cache!;
        var started = _timeProvider.GetTimestamp();
        if (run.Token.IsCancellationRequested)
        {
            return run.Stopped(index, 0, queued: false);
        }

        var address = plan.GetAddress(index, run, out var missing, out var path);
        if (address is null)
        {
            return NotCalled(run, missing!);
        }

        var key = ResponseCacheKey.Create(source.Cluster, path!, policy, run.Request.Headers, run.Request.Authorization, out var headers);
        var call = new CachedCall(this, plan.Downstreams[index], plan.Messages[index], address, headers, source, run.SpanOf(index));
        var left = run.TimeLeft(started);
        SourceResult result;
        try
        {
            result = await responseCache.GetAsync(key, policy, call, started, left < source.Timeout ? left : source.Timeout, run.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // This request stopped waiting; the call goes on for the others and fills the cache.
            result = run.Token.IsCancellationRequested
                ? run.Stopped(index, Elapsed(started), queued: false)
                : SourceResult.Failed(SourceOutcome.Timeout, Elapsed(started), plan.Messages[index].Call.Timeout);
        }

        _metrics.RecordCacheLookup("response", plan.Definition.Name, source.Name, result.CacheHit, result);

        return result;
    }

    /// <summary>
    /// One cached source's downstream call, through the invoker like a plain call, under the source's own timeout and
    /// shutdown only: the call may outlive the request that started it, so it takes no <c>HttpContext</c> and its
    /// span is the starting request's (a background refresh outlives it, as OpenTelemetry allows).
    /// </summary>
    private sealed class CachedCall(
        FanOutExecutor executor,
        DownstreamService downstream,
        SourceMessages messages,
        IDownstreamAddress address,
        KeyValuePair<string, StringValues>[] headers,
        SourceDefinition source,
        Activity? span) : ICachedCall
    {
        public string Name => source.Name;

        public async Task<CallAnswer> CallAsync()
        {
            var answer = await executor._invoker.InvokeAsync(new CallSpec(downstream, messages.Call, address, headers, source.Timeout, executor._timeProvider.GetTimestamp(), executor._shutdown)
            {
                Caller = messages.Caller,
                Span = span,
            }).ConfigureAwait(false);

            // Shared by every request waiting for the key: the leader's wait for a slot is not theirs.
            answer.Result.With(answer.Result.Attempts, null, answer.Result.RetryAfter);
            return answer;
        }
    }
}
