namespace Gateway.Configuration;

/// <summary>One source of an aggregate: a downstream call (<see cref="Cluster"/> and <see cref="Path"/>) or a cached dataset (<see cref="CachedData"/>).</summary>
public sealed record SourceOptions
{
    /// <summary>Name of a dataset under <c>Gateway:CachedData</c>, served from memory; then no cluster, path or timeout.</summary>
    public string? CachedData { get; init; }

    /// <summary>The YARP cluster id of the downstream service.</summary>
    public string? Cluster { get; init; }

    /// <summary>Path and query template: <c>{name}</c> takes a route or query value, <c>{name?}</c> an optional
    /// one (query part only), <c>{source.field}</c> a field of another source's JSON.</summary>
    public string? Path { get; init; }

    /// <summary>Whether the aggregate fails (502/504) when this source fails.</summary>
    /// <value>Defaults to false.</value>
    public bool Required { get; init; }

    /// <summary>Timeout of this call.</summary>
    /// <value>Defaults to the downstream's timeout, else 2 seconds.</value>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Keeps this call's successful answers for a while (a call with a cache in front); null: every request calls.</summary>
    public SourceCacheOptions? Cache { get; init; }

    /// <summary>Whether a request carrying <c>Authorization</c> may use <see cref="Cache"/> (then the header is part of the key).</summary>
    /// <value>Defaults to false: such a request makes a plain call, neither reading nor writing the cache.</value>
    public bool CacheAuthorized { get; init; }
}
