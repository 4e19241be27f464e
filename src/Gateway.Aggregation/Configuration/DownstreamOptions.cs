namespace Gateway.Configuration;

/// <summary>How the gateway treats one downstream cluster, shared by every request, aggregate and route.</summary>
public sealed record DownstreamOptions
{
    /// <summary>Calls in flight at once, across all requests.</summary>
    /// <value>Defaults to 1,024 (Envoy's default circuit-breaker <c>max_requests</c>).</value>
    public int MaxConcurrency { get; init; } = DefaultMaxConcurrency;

    /// <summary>Calls allowed to wait for a free slot; a call that finds the queue full is rejected at once.</summary>
    /// <value>Defaults to 1,024 (Envoy's default <c>max_pending_requests</c>).</value>
    public int MaxQueue { get; init; } = DefaultMaxQueue;

    /// <summary>Timeout of a call to this downstream when its source sets none.</summary>
    /// <value>Defaults to 2 seconds.</value>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Largest response body accepted; a longer one is cut off while streaming.</summary>
    /// <value>Defaults to 1 MiB.</value>
    public long MaxResponseBytes { get; init; } = DefaultMaxResponseBytes;

    /// <summary>Inbound headers copied onto calls to this cluster, besides (or instead of) the global list.</summary>
    public List<string> PropagateHeaders { get; init; } = [];

    /// <summary>Whether <see cref="PropagateHeaders"/> adds to the global list or replaces it.</summary>
    /// <value>Defaults to <see cref="PropagateHeadersMode.Add"/>.</value>
    public PropagateHeadersMode PropagateHeadersMode { get; init; } = PropagateHeadersMode.Add;

    /// <summary>Retry, circuit breaker, hedging and attempt timeout; each off unless its section is present.</summary>
    public ResilienceOptions? Resilience { get; init; }

    internal const int DefaultMaxConcurrency = 1024;
    internal const int DefaultMaxQueue = 1024;
    internal const long DefaultMaxResponseBytes = 1024 * 1024;
}

/// <summary>How a cluster's <see cref="DownstreamOptions.PropagateHeaders"/> combines with the global list.</summary>
public enum PropagateHeadersMode
{
    /// <summary>The cluster's headers are sent as well as the global ones.</summary>
    Add,

    /// <summary>Only the cluster's headers are sent.</summary>
    Replace,
}
