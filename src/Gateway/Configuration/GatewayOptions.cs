namespace Gateway.Configuration;

/// <summary>The <c>Gateway</c> section: downstream limits and resilience, header propagation, deadlines, cached data, the response cache, management and aggregates.</summary>
public sealed record GatewayOptions
{
    /// <summary>Per-cluster limits and resilience, keyed by the YARP cluster id (case-insensitive).</summary>
    public Dictionary<string, DownstreamOptions> Downstreams { get; init; } = [];

    /// <summary>Inbound headers copied onto every downstream call. Hop-by-hop and trace headers are refused.</summary>
    public List<string> PropagateHeaders { get; init; } = [];

    /// <summary>Keys of the client's W3C <c>baggage</c> that may go downstream; any other entry is dropped.</summary>
    public List<string> PropagateBaggage { get; init; } = [];

    public DeadlineOptions Deadline { get; init; } = new();

    /// <summary>Datasets kept in memory and refreshed in the background, keyed by name (case-insensitive).</summary>
    public Dictionary<string, CachedDataOptions> CachedData { get; init; } = [];

    public RefreshOptions Refresh { get; init; } = new();

    /// <summary>The per-source response cache's memory bound, and the Redis that instances share datasets and cached responses through.</summary>
    public CacheOptions Cache { get; init; } = new();

    public ManagementOptions Management { get; init; } = new();

    /// <summary>The Prometheus scrape endpoint (<c>Gateway:Telemetry:Prometheus</c>).</summary>
    public TelemetryOptions Telemetry { get; init; } = new();

    /// <summary>The aggregates, keyed by name; each becomes one endpoint named after its key.</summary>
    public Dictionary<string, AggregateOptions> Aggregates { get; init; } = [];
}
