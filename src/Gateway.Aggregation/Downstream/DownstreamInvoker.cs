using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;
using Gateway.Model;
using Microsoft.Extensions.Primitives;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Gateway.Downstream;

/// <summary>
/// The one way the gateway calls a downstream: aggregate sources, cached calls and dataset refreshes come here,
/// and pass-through routes take its lease and its verdict on a refusal. It owns the downstream's concurrency
/// slot (the lease), the call's timeout, the attempts (through the cluster's resilience pipeline and YARP's
/// destinations) and the classification of whatever happened into one <see cref="SourceOutcome"/> and message.
/// A new failure kind is one edit here.
/// </summary>
internal sealed partial class DownstreamInvoker(DownstreamClient client, TimeProvider timeProvider, ILogger<DownstreamInvoker> logger)
{
    /// <summary>How long a client refused for a full downstream is asked to wait before trying again.</summary>
    public static readonly TimeSpan RejectedRetryAfter = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Calls <see cref="CallSpec.Downstream"/> and says what came of it. Never throws but for a bug. A successful
    /// body is pooled: the caller releases it (<see cref="SourceBody.Release"/>) or hands it on.
    /// </summary>
    public async Task<CallAnswer> InvokeAsync(CallSpec spec)
    {
        var downstream = spec.Downstream;
        var messages = spec.Messages;
        var stop = spec.Stop;
        var started = spec.StartedAt;
        using var timeout = new CancellationTokenSource(spec.Timeout, timeProvider);
        using var link = stop.Token.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
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
                var queuedAt = timeProvider.GetTimestamp();
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

            var ownEndsAt = started + (long)(spec.Timeout.TotalSeconds * timeProvider.TimestampFrequency);
            call = new DownstreamCall(downstream, spec.Address, spec.Headers, spec.Context, spec.EndsAt ?? ownEndsAt, timeProvider, cancellationToken, stop.Token)
            {
                Span = spec.Span,
                // As the breaker's half-open probe a call cut short by its caller runs on to its own timeout.
                OwnEndsAt = spec.EndsAt is null ? null : ownEndsAt,
                Shutdown = stop.Shutdown,
            };
            Outcome<DownstreamResponse> outcome;
            if (downstream.Resilience.Pipeline is not { } pipeline)
            {
                outcome = await client.SendAsync(call, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // Here rather than in an async helper: that would be one more state machine per call.
                var context = EnterPipeline(downstream.Resilience, call, cancellationToken);
                try
                {
                    outcome = await pipeline.ExecuteOutcomeAsync(Attempt, context, (client, call)).ConfigureAwait(false);
                }
                finally
                {
                    ExitPipeline(downstream.Resilience, context, call);
                }
            }

            if (outcome.Exception is { } failure)
            {
                return Failed(failure, spec, call, queuedMs, cancellationToken);
            }

            using var response = outcome.Result!;
            return new(FromResponse(response, messages, Elapsed(started)).With(call.Attempts, queuedMs), response.StoreForbidden);
        }
        catch (Exception ex)
        {
            return Failed(ex, spec, call, queuedMs, cancellationToken);
        }
        finally
        {
            lease?.Dispose();
        }
    }

    // Through the pipeline, outcomes all the way (Polly's ExecuteOutcomeAsync, a static callback and its state):
    // nothing is thrown for a failed attempt. The first attempt is the source's span; each retry or hedge gets one of its own.
    private static readonly Func<ResilienceContext, (DownstreamClient Client, DownstreamCall Call), ValueTask<Outcome<DownstreamResponse>>> Attempt =
        static (context, state) => state.Call.Span is { } span && state.Call.NextTracedAttempt() is var number and > 1
            ? TracedAttemptAsync(span, state.Call, state.Client, number, context.CancellationToken)
            : state.Client.SendAsync(state.Call, context.CancellationToken);

    /// <summary>A pooled context carrying the call, and the call counted in its cluster's retry budget.</summary>
    private static ResilienceContext EnterPipeline(DownstreamResilience resilience, DownstreamCall call, CancellationToken cancellationToken)
    {
        resilience.RetryBudget?.EnterCall();
        return DownstreamResilience.RentContext(call, cancellationToken);
    }

    private static void ExitPipeline(DownstreamResilience resilience, ResilienceContext context, DownstreamCall call)
    {
        ResilienceContextPool.Shared.Return(context);
        if (resilience.RetryBudget is { } budget)
        {
            call.ReleaseAllRetryPermits(budget);
            budget.ExitCall();
        }
    }

    // A retry or hedge gets a span under the call's; its own flow makes it current, so the destination, the
    // traceparent (and the HttpClient span, when on) land on it.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<Outcome<DownstreamResponse>> TracedAttemptAsync(Activity span, DownstreamCall call, DownstreamClient client, int number, CancellationToken cancellationToken)
    {
        var attempt = AttemptActivities.StartAttempt(span, call, number);
        Outcome<DownstreamResponse> outcome;
        try
        {
            outcome = await client.SendAsync(call, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // A load-balancing policy's bug, say: the span still ends.
            outcome = Outcome.FromException<DownstreamResponse>(ex);
        }

        AttemptActivities.EndAttempt(attempt, outcome.Result, outcome.Exception);
        return outcome;
    }

    /// <summary>What a failed call says: cut off by its stop or its timeout, else the error kind of <paramref name="exception"/>.</summary>
    private SourceResult Failed(Exception exception, in CallSpec spec, DownstreamCall? call, long? queuedMs, CancellationToken cancellationToken)
    {
        var elapsedMs = Elapsed(spec.StartedAt);
        var attempts = call?.Attempts ?? 0;
        if (cancellationToken.IsCancellationRequested)
        {
            return spec.Stop.Token.IsCancellationRequested
                ? spec.Stop.Stopped(spec.Slot, elapsedMs, queued: call is null).With(attempts, queuedMs)
                : SourceResult.Failed(SourceOutcome.Timeout, elapsedMs, call is null ? spec.Messages.TimeoutQueued : spec.Messages.Timeout).With(attempts, queuedMs);
        }

        return Classify(exception, spec.Downstream, spec.Messages, elapsedMs, attempts, queuedMs) ?? Unexpected(exception, spec, elapsedMs);
    }

    /// <summary>
    /// Takes a slot of <paramref name="downstream"/>'s concurrency limit, waiting for one as its limiter says; a
    /// lease that is not acquired is a refusal, counted. The caller disposes the lease.
    /// </summary>
    public static async ValueTask<RateLimitLease> EnterAsync(DownstreamService downstream, CancellationToken cancellationToken)
    {
        var lease = await downstream.Limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        if (!lease.IsAcquired)
        {
            downstream.CountRejected();
        }

        return lease;
    }

    /// <summary>What an answer that arrived means: its JSON, or why it is not usable.</summary>
    private static SourceResult FromResponse(DownstreamResponse response, CallMessages messages, long elapsedMs) => response.Problem switch
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
    public static SourceResult? Classify(Exception exception, DownstreamService downstream, CallMessages messages, long elapsedMs, int attempts = 0, long? queuedMs = null) => exception switch
    {
        BrokenCircuitException broken => SourceResult.Failed(SourceOutcome.CircuitOpen, elapsedMs, messages.CircuitOpen)
            .With(attempts, queuedMs, broken.RetryAfter ?? downstream.Resilience.BreakDuration),
        TimeoutRejectedException => SourceResult.Failed(SourceOutcome.Timeout, elapsedMs, messages.AttemptTimeout).With(attempts, queuedMs),
        UriFormatException => SourceResult.Skipped(CallMessages.AddressTooLong, SourceOutcome.Skipped),
        NoDestinationException => SourceResult.Failed(SourceOutcome.Unavailable, elapsedMs, messages.NoDestination).With(attempts, queuedMs),
        HttpRequestException or IOException => SourceResult.Failed(SourceOutcome.Unavailable, elapsedMs, messages.Unavailable).With(attempts, queuedMs),
        ExecutionRejectedException => SourceResult.Failed(SourceOutcome.Rejected, elapsedMs, messages.Rejected).With(attempts, queuedMs, RejectedRetryAfter),
        _ => null,
    };

    private SourceResult Unexpected(Exception exception, CallSpec spec, long elapsedMs)
    {
        LogUnexpected(logger, spec.Downstream.Id, spec.Caller, exception);
        return SourceResult.Failed(SourceOutcome.Unavailable, elapsedMs, spec.Messages.Unavailable);
    }

    private long Elapsed(long started) => (long)timeProvider.GetElapsedTime(started).TotalMilliseconds;

    [LoggerMessage(EventId = 201, EventName = "CallUnexpectedError", Level = LogLevel.Error, Message = "The call to downstream '{Downstream}' for {Caller} failed unexpectedly")]
    private static partial void LogUnexpected(ILogger logger, string downstream, string caller, Exception exception);
}

/// <summary>One call for <see cref="DownstreamInvoker.InvokeAsync"/>: where it goes, what it carries, how long it may take, what stops it.</summary>
internal readonly record struct CallSpec(
    DownstreamService Downstream,
    CallMessages Messages,
    IDownstreamAddress Address,
    KeyValuePair<string, StringValues>[] Headers,
    TimeSpan Timeout,
    long StartedAt,
    ICallStop Stop)
{
    /// <summary>Names what the call serves (a source, a dataset), for the log of a failure nobody expects.</summary>
    public required string Caller { get; init; }

    /// <summary>The inbound request, for YARP's load-balancing policies; null when there is none.</summary>
    public HttpContext? Context { get; init; }

    /// <summary>
    /// When the caller's deadline ends, if it may end before <see cref="Timeout"/> (a timestamp): the call is cut
    /// off there, but may run on to its own timeout as the circuit breaker's half-open probe. Null: the timeout only.
    /// </summary>
    public long? EndsAt { get; init; }

    /// <summary>The span of the source or refresh; null when it is not traced.</summary>
    public Activity? Span { get; init; }

    /// <summary>Handed back to <see cref="ICallStop.Stopped"/>: which of the caller's calls was stopped.</summary>
    public int Slot { get; init; }
}

/// <summary>What the downstream said, and why its answer must not be stored, if it said so (<see cref="DownstreamResponse.StoreForbidden"/>).</summary>
internal readonly record struct CallAnswer(SourceResult Result, string? StoreForbidden)
{
    /// <summary>A result with nothing said against storing it (every failure: failures are never stored anyway).</summary>
    public static implicit operator CallAnswer(SourceResult result) => new(result, null);
}

/// <summary>What besides its own timeout stops a call, and what the result then says.</summary>
internal interface ICallStop
{
    /// <summary>Cancelled when the caller no longer wants the call.</summary>
    CancellationToken Token { get; }

    /// <summary>The host stopping: the one thing besides its own timeout that stops a half-open probe running alone.</summary>
    CancellationToken Shutdown { get; }

    /// <summary>The result of call <paramref name="slot"/> stopped by <see cref="Token"/>; <paramref name="queued"/>: before it got a slot.</summary>
    SourceResult Stopped(int slot, long elapsedMs, bool queued);
}

/// <summary>A call that only the host stopping cuts short (a cached call, a dataset refresh).</summary>
internal sealed class StopOnShutdown(CancellationToken stopping) : ICallStop
{
    public CancellationToken Token => stopping;

    public CancellationToken Shutdown => stopping;

    public SourceResult Stopped(int slot, long elapsedMs, bool queued) => SourceResult.Failed(SourceOutcome.Cancelled, elapsedMs, CallMessages.ShuttingDown);
}
