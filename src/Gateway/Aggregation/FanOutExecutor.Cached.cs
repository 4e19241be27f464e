using System.Diagnostics;
using System.Threading.RateLimiting;
using Gateway.Caching;
using Gateway.Downstream;
using Gateway.Model;
using Gateway.Telemetry;
using Microsoft.Extensions.Primitives;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Gateway.Aggregation;

internal sealed partial class FanOutExecutor
{
    /// <summary>
    /// A source with the response cache in front: a stored answer when there is one (fresh, or stale inside a
    /// window), else one downstream call shared by every request waiting for the same key. A request with
    /// <c>Authorization</c> makes a plain call unless the source allows caching it.
    /// </summary>
    private async Task<SourceResult> CallCachedAsync(FanOutRun run, int index)
    {
        var plan = run.Plan;
        var source = plan.Definition.Sources[index];
        var policy = source.Cache!;
        if (responseCache is null || (!StringValues.IsNullOrEmpty(run.Request.Authorization) && !policy.CacheAuthorized))
        {
            return await CallAsync(run, index).ConfigureAwait(false);
        }

        var started = _timeProvider.GetTimestamp();
        if (run.Token.IsCancellationRequested)
        {
            return run.Stopped(index, 0, queued: false);
        }

        var address = plan.GetAddress(index, run, out var missing, out var path);
        if (address is null)
        {
            var reason = PathTemplate.SegmentProblem(run.Get(missing!));
            return SourceResult.Skipped($"not called: {{{missing!.Name}}} {reason}", SourceOutcome.Skipped);
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
                : SourceResult.Failed(SourceOutcome.Timeout, Elapsed(started), plan.Messages[index].Timeout);
        }

        _metrics.RecordCacheLookup("response", plan.Definition.Name, source.Name, result.CacheHit, result);

        return result;
    }

    /// <summary>One cached source's downstream call: the same limit, pipeline and checks as a plain call, under the source's own timeout and shutdown only.</summary>
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

        public async Task<CachedCallAnswer> CallAsync()
        {
            var time = executor._timeProvider;
            var started = time.GetTimestamp();
            var stopping = executor._stopping;
            using var timeout = new CancellationTokenSource(source.Timeout, time);
            using var link = stopping.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
            var cancellationToken = timeout.Token;
            var endsAt = started + (long)(source.Timeout.TotalSeconds * time.TimestampFrequency);
            DownstreamCall? call = null;
            RateLimitLease? lease = null;
            try
            {
                lease = await downstream.Limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
                if (!lease.IsAcquired)
                {
                    downstream.CountRejected();
                    return SourceResult.Failed(SourceOutcome.Rejected, executor.Elapsed(started), messages.Rejected);
                }

                // No HttpContext: the call may outlive the request that started it (a background refresh).
                // The span of the request that started the call; a background refresh outlives it, as OpenTelemetry allows.
                call = new DownstreamCall(downstream, address, headers, null, endsAt, time, cancellationToken, stopping) { Span = span };
                using var response = await downstream.SendAsync(call, executor._client, cancellationToken).ConfigureAwait(false);
                return new(FromResponse(response, messages, executor.Elapsed(started)).With(call.Attempts, null), response.StoreForbidden);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                return stopping.IsCancellationRequested
                    ? SourceResult.Failed(SourceOutcome.Cancelled, executor.Elapsed(started), messages.ShuttingDown)
                    : SourceResult.Failed(SourceOutcome.Timeout, executor.Elapsed(started), call is null ? messages.TimeoutQueued : messages.Timeout);
            }
            catch (Exception ex) when (FromFailure(ex, downstream, messages, executor.Elapsed(started), call?.Attempts ?? 0, null) is { } failure)
            {
                return failure;
            }
            catch (Exception ex)
            {
                Log.SourceCallUnexpectedError(executor._logger, "(cached call)", source.Name, ex);
                return SourceResult.Failed(SourceOutcome.Unavailable, executor.Elapsed(started), messages.Unavailable);
            }
            finally
            {
                lease?.Dispose();
            }
        }
    }
}
