using System.Threading.RateLimiting;
using Gateway.Caching;
using Gateway.Downstream;
using Gateway.Model;
using Gateway.Telemetry;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Gateway.Aggregation;

/// <summary>
/// Runs the sources of one aggregate request: independent sources at once, a dependent source the moment
/// its inputs are done, at most <see cref="AggregateDefinition.MaxParallel"/> at a time, none past the
/// deadline. Each call gets its own timeout (covering its wait for a concurrency slot and every attempt)
/// and goes through its downstream's concurrency limit and resilience pipeline.
/// </summary>
internal sealed partial class FanOutExecutor(
    DownstreamClient client,
    TimeProvider timeProvider,
    ILogger<FanOutExecutor> logger,
    GatewayMetrics metrics,
    TimeSpan minBudget,
    CancellationToken stopping,
    ResponseCache? responseCache = null,
    SourceFailureLog? failureLog = null)
{
    private static readonly TimeSpan RejectedRetryAfter = TimeSpan.FromSeconds(1);

    private readonly ILogger _logger = logger;
    private readonly TimeProvider _timeProvider = timeProvider;
    private readonly GatewayMetrics _metrics = metrics;
    private readonly CancellationToken _stopping = stopping;
    private readonly DownstreamClient _client = client;
    private readonly SourceFailureLog _failures = failureLog ?? new(logger, timeProvider, Configuration.LoggingOptions.DefaultFailureLogInterval);

    /// <summary>
    /// Runs every source and returns their results by source index once all are settled. Cancelling
    /// <paramref name="cancellationToken"/> (the client went away) cancels every call in flight at once, and
    /// so does the host stopping. The caller releases the bodies (<see cref="SourceBody.Release"/>).
    /// </summary>
    public async Task<SourceResult[]> ExecuteAsync(AggregatePlan plan, AggregateRequest request, CancellationToken cancellationToken)
    {
        var run = new FanOutRun(this, plan, request);
        try
        {
            // The registrations go first: disposing one waits for its callback, so none can touch a disposed run.
            using (cancellationToken.UnsafeRegister(static s => ((FanOutRun)s!).Cancel(CancelReason.ClientGone), run))
            using (_stopping.UnsafeRegister(static s => ((FanOutRun)s!).Cancel(CancelReason.Shutdown), run))
            {
                await run.RunAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            run.Dispose();
        }

        return run.Results;
    }

    /// <summary>Gets one source's result the way its kind says: a downstream call, a read from memory that never waits, or a call behind the response cache.</summary>
    private ValueTask<SourceResult> FetchAsync(FanOutRun run, int index) => run.Plan.Definition.Sources[index].Kind switch
    {
        SourceKind.CachedData => new(ReadCachedData(run.Plan, index)),
        SourceKind.CachedCall => new(CallCachedAsync(run, index)),
        _ => new(CallAsync(run, index)),
    };

    // The copy is shared with every other request reading it: the envelope copies it, nobody releases it.
    private SourceResult ReadCachedData(AggregatePlan plan, int index)
    {
        var dataset = plan.Datasets[index]!;
        var messages = plan.Messages[index];
        return dataset.Classify(_timeProvider.GetTimestamp(), out var copy, out var ageMs) switch
        {
            CopyAge.Missing => SourceResult.Failed(SourceOutcome.Unavailable, 0, messages.NotLoaded),
            CopyAge.Expired => SourceResult.Expired(ageMs, messages.Expired(ageMs, dataset.Definition.ServedFor, dataset.NotRenewedBecause)),
            var age => SourceResult.Cached(copy!.Status, copy.Body, ageMs, age == CopyAge.Fresh ? CacheState.Fresh : CacheState.Stale),
        };
    }

    private async Task<SourceResult> CallAsync(FanOutRun run, int index)
    {
        var plan = run.Plan;
        var source = plan.Definition.Sources[index];
        var downstream = plan.Downstreams[index];
        var messages = plan.Messages[index];
        var started = _timeProvider.GetTimestamp();
        if (run.Token.IsCancellationRequested)
        {
            return run.Stopped(index, Elapsed(started), queued: false);
        }

        var address = plan.GetAddress(index, run, out var missing);
        if (address is null)
        {
            var reason = PathTemplate.SegmentProblem(run.Get(missing!));
            return SourceResult.Skipped($"not called: {{{missing!.Name}}} {reason}", SourceOutcome.Skipped);
        }

        var left = run.TimeLeft(started);
        var endsAt = started + (long)(Math.Min(source.Timeout.TotalSeconds, left.TotalSeconds) * _timeProvider.TimestampFrequency);
        if (left < minBudget)
        {
            return SourceResult.Failed(SourceOutcome.Timeout, 0, messages.NoBudget(left, minBudget));
        }

        using var timeout = new CancellationTokenSource(source.Timeout, _timeProvider);
        using var link = run.Token.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
        var cancellationToken = timeout.Token;
        long? queuedMs = null;
        DownstreamCall? call = null;
        RateLimitLease? lease = null;
        try
        {
            lease = downstream.Limiter.AttemptAcquire();
            if (!lease.IsAcquired)
            {
                lease.Dispose();
                var queuedAt = _timeProvider.GetTimestamp();
                try
                {
                    lease = await downstream.Limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    queuedMs = Elapsed(queuedAt);
                }

                if (!lease.IsAcquired)
                {
                    downstream.CountRejected();
                    return SourceResult.Failed(SourceOutcome.Rejected, Elapsed(started), messages.Rejected).With(0, queuedMs, RejectedRetryAfter);
                }
            }

            // As the breaker's half-open probe the call runs on to its own timeout, past the request's deadline.
            call = new DownstreamCall(downstream, address, run.Request.Headers, run.Request.Context, endsAt, _timeProvider, timeout.Token, run.Token)
            {
                Span = run.SpanOf(index),
                OwnEndsAt = started + (long)(source.Timeout.TotalSeconds * _timeProvider.TimestampFrequency),
                Shutdown = _stopping,
            };
            using var response = await downstream.SendAsync(call, _client, cancellationToken).ConfigureAwait(false);
            var result = FromResponse(response, messages, Elapsed(started));
            return result.With(call.Attempts, queuedMs);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            if (run.Token.IsCancellationRequested)
            {
                return run.Stopped(index, Elapsed(started), queued: call is null).With(call?.Attempts ?? 0, queuedMs);
            }

            var message = call is null ? messages.TimeoutQueued : messages.Timeout;
            return SourceResult.Failed(SourceOutcome.Timeout, Elapsed(started), message).With(call?.Attempts ?? 0, queuedMs);
        }
        catch (Exception ex) when (FromFailure(ex, downstream, messages, Elapsed(started), call?.Attempts ?? 0, queuedMs) is { } failure)
        {
            return failure;
        }
        finally
        {
            lease?.Dispose();
        }
    }

    /// <summary>What an answer that arrived means for its source: its JSON, or why it is not usable.</summary>
    private static SourceResult FromResponse(DownstreamResponse response, SourceMessages messages, long elapsedMs) => response.Problem switch
    {
        ResponseProblem.None => SourceResult.Ok(response.Status, elapsedMs, response.TakeBody()!),
        ResponseProblem.HttpStatus => SourceResult.Failed(SourceOutcome.HttpStatus, elapsedMs, messages.HttpStatus(response.Status), response.Status),
        ResponseProblem.TooLarge => SourceResult.Failed(SourceOutcome.InvalidResponse, elapsedMs, messages.TooLarge, response.Status),
        _ => SourceResult.Failed(SourceOutcome.InvalidResponse, elapsedMs, messages.NotJson, response.Status),
    };

    /// <summary>
    /// The error kind of everything a call can throw besides its own cancellation (which the caller tells apart):
    /// Polly's rejections, no destination, the transport. Null for an exception nobody expects.
    /// </summary>
    private static SourceResult? FromFailure(Exception exception, DownstreamService downstream, SourceMessages messages, long elapsedMs, int attempts, long? queuedMs) => exception switch
    {
        BrokenCircuitException broken => SourceResult.Failed(SourceOutcome.CircuitOpen, elapsedMs, messages.CircuitOpen)
            .With(attempts, queuedMs, broken.RetryAfter ?? downstream.Resilience.BreakDuration),
        TimeoutRejectedException => SourceResult.Failed(SourceOutcome.Timeout, elapsedMs, messages.AttemptTimeout).With(attempts, queuedMs),
        UriFormatException => SourceResult.Skipped("not called: its address could not be built from the values (too long)", SourceOutcome.Skipped),
        NoDestinationException => SourceResult.Failed(SourceOutcome.Unavailable, elapsedMs, messages.NoDestination).With(attempts, queuedMs),
        HttpRequestException or IOException => SourceResult.Failed(SourceOutcome.Unavailable, elapsedMs, messages.Unavailable).With(attempts, queuedMs),
        ExecutionRejectedException => SourceResult.Failed(SourceOutcome.Rejected, elapsedMs, messages.Rejected).With(attempts, queuedMs, RejectedRetryAfter),
        _ => null,
    };

    private long Elapsed(long started) => (long)_timeProvider.GetElapsedTime(started).TotalMilliseconds;

    /// <summary>Why a request's calls were stopped before they finished.</summary>
    private enum CancelReason
    {
        /// <summary>The deadline's timer fired (it sets no reason of its own).</summary>
        Deadline,
        FailFast,
        Shutdown,
        ClientGone,
    }
}
