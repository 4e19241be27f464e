namespace Gateway.Configuration;

/// <summary>
/// The response cache in front of one aggregate source's call (<c>...:Sources:{source}:Cache</c>): answers are
/// kept per cluster, expanded path and query, and the values of the headers named in <see cref="VaryBy"/>.
/// </summary>
public sealed record SourceCacheOptions
{
    /// <summary>How long a stored answer is fresh: served without a downstream call.</summary>
    /// <value>Required.</value>
    public TimeSpan? Ttl { get; init; }

    /// <summary>How long past <see cref="Ttl"/> the stale answer is still served at once while one background call refreshes it.</summary>
    /// <value>Defaults to zero (past the Ttl a request waits for the call).</value>
    public TimeSpan? StaleWhileRevalidate { get; init; }

    /// <summary>How long past <see cref="Ttl"/> the stale answer stands in for a call that failed.</summary>
    /// <value>Defaults to zero (a failed call is the source's failure).</value>
    public TimeSpan? StaleIfError { get; init; }

    /// <summary>Propagated request headers whose values are part of the key; each must be one the source's cluster receives.</summary>
    public List<string> VaryBy { get; init; } = [];

    /// <summary>
    /// Stores answers whatever the downstream says about caching them. Without it an answer with
    /// <c>Cache-Control: no-store</c>, <c>no-cache</c> or <c>private</c>, or with <c>Set-Cookie</c>, is given to the
    /// request that made the call and not stored.
    /// </summary>
    /// <value>Defaults to false.</value>
    public bool IgnoreCacheControl { get; init; }
}
