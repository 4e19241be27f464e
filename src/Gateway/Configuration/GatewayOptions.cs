namespace Gateway.Configuration;

/// <summary>The <c>Gateway</c> section: downstream limits, header propagation and aggregates.</summary>
public sealed record GatewayOptions
{
    /// <summary>Per-cluster call limits, keyed by the YARP cluster id.</summary>
    public Dictionary<string, DownstreamOptions> Downstreams { get; init; } = [];

    /// <summary>Inbound headers copied onto every downstream call. Hop-by-hop headers are refused.</summary>
    public List<string> PropagateHeaders { get; init; } = [];

    /// <summary>The aggregates, keyed by name; each becomes one endpoint named after its key.</summary>
    public Dictionary<string, AggregateOptions> Aggregates { get; init; } = [];
}
