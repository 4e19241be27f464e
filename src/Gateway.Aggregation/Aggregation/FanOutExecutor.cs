using Gateway.Caching;
using Gateway.Downstream;
using Gateway.Model;
using Gateway.Telemetry;

namespace Gateway.Aggregation;

/// <summary>
/// Runs the sources of one aggregate request: independent sources at once, a dependent source the moment
/// its inputs are done, at most <see cref="AggregateDefinition.MaxParallel"/> at a time, none past the
/// deadline. Each call gets its own timeout (covering its wait for a concurrency slot and every attempt)
/// and goes through its downstream's concurrency limit and resilience pipeline.
/// </summary>
internal sealed partial class FanOutExecutor(
    DownstreamInvoker invoker,
    TimeProvider timeProvider,
    ILogger<FanOutExecutor> logger,
    GatewayMetrics metrics,
    TimeSpan minBudget,
    CancellationToken stopping,
    ResponseCache? responseCache = null,
    SourceFailureLog? failureLog = null)
{
    private readonly ILogger _logger = logger;
    private readonly TimeProvider _timeProvider = timeProvider;
    private readonly GatewayMetrics _metrics = metrics;
    private readonly CancellationToken _stopping = stopping;
    private readonly DownstreamInvoker _invoker = invoker;
    private readonly StopOnShutdown _shutdown = new(stopping);
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
    private ValueTask<CallAnswer> FetchAsync(FanOutRun run, int index) => run.Plan.Definition.Sources[index].Kind switch
    {
        SourceKind.CachedData => new(ReadCachedData(run.Plan, index)),
        SourceKind.CachedCall => CallCachedAsync(run, index),
        _ => CallAsync(run, index),
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

    /// <summary>A plain call: the address from the values, the minimum budget, then the invoker under the source's timeout and the run's deadline.</summary>
    private ValueTask<CallAnswer> CallAsync(FanOutRun run, int index)
    {
        var plan = run.Plan;
        var source = plan.Definition.Sources[index];
        var messages = plan.Messages[index];
        var started = _timeProvider.GetTimestamp();
        if (run.Token.IsCancellationRequested)
        {
            return new(run.Stopped(index, 0, queued: false));
        }

        var address = plan.GetAddress(index, run, out var missing);
        if (address is null)
        {
            return new(NotCalled(run, missing!));
        }

        var left = run.TimeLeft(started);
        if (left < minBudget)
        {
            return new(SourceResult.Failed(SourceOutcome.Timeout, 0, messages.NoBudget(left, minBudget)));
        }

        var endsAt = started + (long)(Math.Min(source.Timeout.TotalSeconds, left.TotalSeconds) * _timeProvider.TimestampFrequency);
        return new(_invoker.InvokeAsync(new CallSpec(plan.Downstreams[index], messages.Call, address, run.Request.Headers, source.Timeout, started, run)
        {
            Caller = messages.Caller,
            Context = run.Request.Context,
            EndsAt = endsAt,
            Span = run.SpanOf(index),
            Slot = index,
        }));
    }

    /// <summary>A source whose address has no value (or no usable one) for <paramref name="missing"/>: never called.</summary>
    private static SourceResult NotCalled(FanOutRun run, Placeholder missing) =>
        SourceResult.Skipped($"not called: {{{missing.Name}}} {PathTemplate.SegmentProblem(run.Get(missing))}", SourceOutcome.Skipped);

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
