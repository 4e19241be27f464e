using System.Diagnostics;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Model;

namespace Gateway.Downstream;

/// <summary>
/// One source's call to its downstream, across all its attempts (retries and hedges): where it goes, what
/// it carries, how long it may take, and what happened so far.
/// </summary>
internal sealed class DownstreamCall(
    DownstreamService downstream,
    IDownstreamAddress address,
    KeyValuePair<string, StringValues>[] headers,
    HttpContext? context,
    long endsAt,
    TimeProvider timeProvider,
    CancellationToken ownTimeout = default,
    CancellationToken stopped = default)
{
    private DestinationState? _firstTried;
    private List<DestinationState>? _moreTried;
    private int _attempts;
    private int _retryPermits;
    private int _tracedAttempts;
    private CancellationTokenSource? _alone;

    public DownstreamService Downstream { get; } = downstream;

    public IDownstreamAddress Address { get; } = address;

    /// <summary>Inbound headers selected for propagation (the cluster's own list is applied when sending).</summary>
    public KeyValuePair<string, StringValues>[] Headers { get; } = headers;

    /// <summary>The inbound request, for YARP's load-balancing policies; null when there is none.</summary>
    public HttpContext? Context { get; } = context;

    public TimeProvider TimeProvider { get; } = timeProvider;

    /// <summary>The span of the source (or refresh) this call serves; null when it is not traced.</summary>
    public Activity? Span { get; init; }

    /// <summary>Numbers the attempts that get a span of their own (1, 2, ...).</summary>
    public int NextTracedAttempt() => Interlocked.Increment(ref _tracedAttempts);

    /// <summary>Attempts sent so far (retries and hedges included).</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>
    /// When the call's own timeout ends (its source's <c>Timeout</c> from its start), for a call that may run on
    /// alone as the circuit breaker's half-open probe (see <see cref="BreakerStep"/>); null when it may not.
    /// </summary>
    public long? OwnEndsAt { get; init; }

    /// <summary>The host stopping: besides its own timeout, the one thing that stops a probe running alone.</summary>
    public CancellationToken Shutdown { get; init; }

    /// <summary>
    /// Time left before this call's timeout or the request's deadline, whichever comes first; while it runs
    /// alone as the breaker's probe, before its own timeout.
    /// </summary>
    public TimeSpan TimeLeft
    {
        get
        {
            var end = Volatile.Read(ref _alone) is not null && OwnEndsAt is { } own ? own : endsAt;
            var now = TimeProvider.GetTimestamp();
            return now >= end ? TimeSpan.Zero : TimeProvider.GetElapsedTime(now, end);
        }
    }

    /// <summary>Time left before the call's own timeout, whatever the request's deadline; zero when it may not run alone.</summary>
    public TimeSpan OwnTimeLeft
    {
        get
        {
            var now = TimeProvider.GetTimestamp();
            return OwnEndsAt is not { } end || now >= end ? TimeSpan.Zero : TimeProvider.GetElapsedTime(now, end);
        }
    }

    /// <summary>
    /// The call's own timeout ran out (not the deadline, fail-fast, shutdown or the client): the downstream
    /// was too slow, which the circuit breaker counts as a failure.
    /// </summary>
    public bool OwnTimeoutFired => Volatile.Read(ref _alone) is { } alone
        ? alone.IsCancellationRequested && !Shutdown.IsCancellationRequested
        : ownTimeout.IsCancellationRequested && !stopped.IsCancellationRequested;

    /// <summary>From now on only <paramref name="ownTimeout"/> (its own timeout and shutdown) stops this call: it is the half-open probe.</summary>
    public void RunAlone(CancellationTokenSource ownTimeout) => Volatile.Write(ref _alone, ownTimeout);

    /// <summary>The probe is over and its caller still waits: the request's deadline applies again (to a retry).</summary>
    public void RejoinRequest() => Volatile.Write(ref _alone, null);

    public void CountAttempt() => Interlocked.Increment(ref _attempts);

    // Only hedged attempts run at the same time; the lock is on this private call object, not a field, to
    // keep the common single-attempt call at one allocation.

    /// <summary>Remembers a destination this call has tried, so that a hedge goes elsewhere.</summary>
    public void AddTried(DestinationState destination)
    {
        lock (this)
        {
            if (_firstTried is null)
            {
                _firstTried = destination;
            }
            else
            {
                (_moreTried ??= []).Add(destination);
            }
        }
    }

    public bool HasTried(DestinationState destination)
    {
        lock (this)
        {
            return ReferenceEquals(_firstTried, destination) || (_moreTried?.Contains(destination) ?? false);
        }
    }

    public bool HasTriedAny
    {
        get
        {
            lock (this)
            {
                return _firstTried is not null;
            }
        }
    }

    public void AddRetryPermit() => Interlocked.Increment(ref _retryPermits);

    /// <summary>Gives one retry permit back to the budget, when this call holds one.</summary>
    public void ReleaseRetryPermit(RetryBudget budget)
    {
        var held = Volatile.Read(ref _retryPermits);
        while (held > 0)
        {
            var seen = Interlocked.CompareExchange(ref _retryPermits, held - 1, held);
            if (seen == held)
            {
                budget.Release();
                return;
            }

            held = seen;
        }
    }

    /// <summary>Gives back every permit still held (a retry cancelled during its delay).</summary>
    public void ReleaseAllRetryPermits(RetryBudget budget)
    {
        for (var held = Interlocked.Exchange(ref _retryPermits, 0); held > 0; held--)
        {
            budget.Release();
        }
    }
}
