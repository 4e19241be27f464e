using System.Threading.RateLimiting;

namespace Gateway.Downstream;

/// <summary>
/// One downstream service as the gateway treats it: a YARP cluster (which holds the destinations, their
/// health and the transport) plus the gateway's own policies for it: the concurrency limit, the resilience
/// pipeline with its shared circuit breaker, the default timeout, the body cap and the headers it receives.
/// </summary>
internal sealed class DownstreamService
{
    private readonly HashSet<string> _propagateHeaders;
    private readonly long _capacity;
    private long _rejected;

    public DownstreamService(
        string id,
        ConcurrencyLimiter limiter,
        TimeSpan? timeout,
        long maxResponseBytes,
        IEnumerable<string> propagateHeaders,
        string budgetHeader,
        DownstreamResilience resilience)
    {
        Id = id;
        Limiter = limiter;
        _capacity = limiter.GetStatistics()?.CurrentAvailablePermits ?? 0;
        Timeout = timeout;
        MaxResponseBytes = maxResponseBytes;
        _propagateHeaders = new HashSet<string>(propagateHeaders, StringComparer.OrdinalIgnoreCase);
        BudgetHeader = budgetHeader;
        Resilience = resilience;
    }

    /// <summary>The YARP cluster id, as declared under <c>ReverseProxy:Clusters</c>.</summary>
    public string Id { get; }

    /// <summary>Calls in flight to this downstream, with a bounded queue behind the cap.</summary>
    public ConcurrencyLimiter Limiter { get; }

    /// <summary>Calls holding a slot now (for metrics; the limiter's statistics only say what is free).</summary>
    public long InFlight => _capacity - (Limiter.GetStatistics()?.CurrentAvailablePermits ?? _capacity);

    /// <summary>Calls refused because the queue was full, since start (for metrics).</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    public void CountRejected() => Interlocked.Increment(ref _rejected);

    public TimeSpan? Timeout { get; }

    /// <summary>What a refusal of a pass-through route to this downstream says (a route has no call timeout of its own: only the refusals apply).</summary>
    public CallMessages RouteMessages => field ??= new(this, Timeout ?? TimeSpan.Zero);

    public long MaxResponseBytes { get; }

    /// <summary>Header carrying the time left on every call.</summary>
    public string BudgetHeader { get; }

    public DownstreamResilience Resilience { get; }

    /// <summary>The name of a retry's or hedge's span, <c>attempt {cluster}</c>, built once.</summary>
    public string AttemptSpanName => field ??= "attempt " + Id;

    /// <summary>The inbound headers this cluster receives (the global list and its own).</summary>
    public IReadOnlyCollection<string> PropagateHeaders => _propagateHeaders;

    public bool Propagates(string header) => _propagateHeaders.Contains(header);
}
