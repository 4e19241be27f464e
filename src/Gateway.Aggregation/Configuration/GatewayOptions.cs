using Microsoft.Extensions.Options;

namespace Gateway.Configuration;

/// <summary>The <c>Gateway</c> section: downstream limits and resilience, header propagation, deadlines, cached data, the response cache, management, inbound limits, CORS and aggregates.</summary>
public sealed record GatewayOptions
{
    /// <summary>Per-cluster limits and resilience, keyed by the YARP cluster id (case-insensitive).</summary>
    public Dictionary<string, DownstreamOptions> Downstreams { get; init; } = [];

    /// <summary>Inbound headers copied onto every downstream call. Hop-by-hop and trace headers are refused.</summary>
    public List<string> PropagateHeaders { get; init; } = [];

    /// <summary>Keys of the client's W3C <c>baggage</c> that may go downstream; any other entry is dropped.</summary>
    public List<string> PropagateBaggage { get; init; } = [];

    /// <summary>The request's deadline: the header a client's own budget comes in, the least budget worth a call.</summary>
    public DeadlineOptions Deadline { get; init; } = new();

    /// <summary>Datasets kept in memory and refreshed in the background, keyed by name (case-insensitive).</summary>
    public Dictionary<string, CachedDataOptions> CachedData { get; init; } = [];

    /// <summary>The background refresh of the datasets: how many workers.</summary>
    [ValidateObjectMembers]
    public RefreshOptions Refresh { get; init; } = new();

    /// <summary>The per-source response cache's memory bound, and the Redis that instances share datasets and cached responses through.</summary>
    [ValidateObjectMembers]
    public CacheOptions Cache { get; init; } = new();

    /// <summary>The management endpoints (<c>/gateway/cache</c>) and their key.</summary>
    public ManagementOptions Management { get; init; } = new();

    /// <summary>How failures are logged: the console format, the throttle of repeated source failures.</summary>
    public LoggingOptions Logging { get; init; } = new();

    /// <summary>The gateway's own health signals (the thread-pool lag monitor).</summary>
    public DiagnosticsOptions Diagnostics { get; init; } = new();

    /// <summary>The drain on SIGTERM (<c>Gateway:Shutdown:DrainTimeout</c>).</summary>
    public ShutdownOptions Shutdown { get; init; } = new();

    /// <summary>Proxies (addresses or CIDR networks) whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed.</summary>
    public List<string> TrustedProxies { get; init; } = [];

    /// <summary>Inbound limits: per client address and at most so many requests at once.</summary>
    public RateLimitingOptions RateLimiting { get; init; } = new();

    /// <summary>Cross-origin requests from browsers; off unless origins are listed.</summary>
    public CorsPolicyOptions Cors { get; init; } = new();
    /// <summary>The OpenAPI document and Swagger UI, generated from the aggregates and routes.</summary>
    public OpenApiOptions OpenApi { get; init; } = new();
    /// <summary>The Prometheus scrape endpoint, the trace sampler and HttpClient spans (<c>Gateway:Telemetry</c>).</summary>
    [ValidateObjectMembers]
    public TelemetryOptions Telemetry { get; init; } = new();

    /// <summary>The aggregates, keyed by name; each becomes one endpoint named after its key.</summary>
    public Dictionary<string, AggregateOptions> Aggregates { get; init; } = [];
}
