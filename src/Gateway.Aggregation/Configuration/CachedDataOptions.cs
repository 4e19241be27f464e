namespace Gateway.Configuration;

/// <summary>
/// A dataset kept in memory and refreshed in the background (<c>Gateway:CachedData:{name}</c>); aggregate
/// sources read it with <c>"CachedData": "{name}"</c> and never wait on the network for it.
/// </summary>
public sealed record CachedDataOptions
{
    /// <summary>The YARP cluster id of the downstream that owns the data.</summary>
    public string? Cluster { get; init; }

    /// <summary>Path and query on the cluster; no placeholders.</summary>
    public string? Path { get; init; }

    /// <summary>Time between one successful refresh and the next.</summary>
    /// <value>Required.</value>
    public TimeSpan? RefreshInterval { get; init; }

    /// <summary>Each delay varies at random by up to this fraction of itself, either way (0 to 0.5).</summary>
    /// <value>Defaults to 0.1.</value>
    public double Jitter { get; init; } = DefaultJitter;

    /// <summary>Timeout of one refresh call (retries and hedges included).</summary>
    /// <value>Defaults to the downstream's timeout, else 2 seconds.</value>
    public TimeSpan? Timeout { get; init; }

    /// <summary>How long past its fresh period the last good copy may still be served; after that the source fails with <c>stale_expired</c>.</summary>
    /// <value>Defaults to 10 × <see cref="RefreshInterval"/>.</value>
    public TimeSpan? MaxStaleness { get; init; }

    /// <summary>Whether readiness (<c>/health/ready</c>) waits for the first load.</summary>
    /// <value>Defaults to false.</value>
    public bool Required { get; init; }

    internal const double DefaultJitter = 0.1;
    internal const double MaxJitter = 0.5;
    internal const int DefaultMaxStalenessIntervals = 10;
}
