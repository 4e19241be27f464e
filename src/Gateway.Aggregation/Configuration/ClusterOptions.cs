namespace Gateway.Configuration;

/// <summary>The part of a YARP cluster (<c>ReverseProxy:Clusters:{id}</c>) the aggregates read.</summary>
internal sealed record ClusterOptions
{
    /// <summary>Destinations of the cluster, keyed by destination id.</summary>
    public Dictionary<string, DestinationOptions> Destinations { get; init; } = [];
}

/// <summary>One destination of a YARP cluster.</summary>
internal sealed record DestinationOptions
{
    /// <summary>Absolute base address, e.g. <c>http://users.internal/</c>.</summary>
    public string? Address { get; init; }
}
