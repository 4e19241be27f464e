using ZiggyCreatures.Caching.Fusion;

namespace Gateway.Caching;

/// <summary>
/// How one source's answers are cached, validated at start-up, with the FusionCache entry options that
/// carry it out built once: <c>Duration</c> = Ttl + StaleWhileRevalidate, an eager refresh at Ttl (so the
/// stale-while-revalidate window is FusionCache's "fresh, refresh ahead" window), fail-safe up to
/// Ttl + StaleIfError. No factory timeouts: a call runs under its source's own timeout.
/// </summary>
internal sealed class ResponseCachePolicy
{
    /// <summary>After a failure fell back to the stale answer, the next call is tried no sooner than this.</summary>
    public static readonly TimeSpan FailSafeThrottle = TimeSpan.FromSeconds(1);

    /// <summary>How long a read of the distributed level may hold a request when a stale answer could stand in.</summary>
    public static readonly TimeSpan DistributedSoftTimeout = TimeSpan.FromMilliseconds(50);

    /// <summary>How long a read of the distributed level may hold a request at most (a miss then calls the downstream).</summary>
    public static readonly TimeSpan DistributedHardTimeout = TimeSpan.FromMilliseconds(100);

    public ResponseCachePolicy(TimeSpan ttl, TimeSpan staleWhileRevalidate, TimeSpan staleIfError, IReadOnlyList<string> varyBy, bool cacheAuthorized, bool ignoreCacheControl = false)
    {
        Ttl = ttl;
        StaleWhileRevalidate = staleWhileRevalidate;
        StaleIfError = staleIfError;
        VaryBy = [.. varyBy];
        CacheAuthorized = cacheAuthorized;
        IgnoreCacheControl = ignoreCacheControl;
        var duration = ttl + staleWhileRevalidate;
        EntryOptions = new FusionCacheEntryOptions
        {
            Duration = duration,
            // An entry read from Redis keeps the expiration written in it; this caps it, so a forged or skewed one
            // is never fresh in memory for longer than the policy allows.
            MemoryCacheDuration = duration,
            // A hit past Ttl (inside the window) starts one background call, FusionCache's eager refresh.
            EagerRefreshThreshold = staleWhileRevalidate > TimeSpan.Zero ? (float)(ttl / duration) : null,
            IsFailSafeEnabled = staleIfError > staleWhileRevalidate,
            // The entry physically lives to the end of the later window; FusionCache keeps the fallback no longer.
            FailSafeMaxDuration = ttl + (staleIfError > staleWhileRevalidate ? staleIfError : staleWhileRevalidate),
            FailSafeThrottleDuration = staleIfError < FailSafeThrottle ? staleIfError : FailSafeThrottle,
            FactorySoftTimeout = Timeout.InfiniteTimeSpan,
            FactoryHardTimeout = Timeout.InfiniteTimeSpan,
            AllowTimedOutFactoryBackgroundCompletion = true,
            LockTimeout = Timeout.InfiniteTimeSpan,
            JitterMaxDuration = TimeSpan.Zero,

            // With a distributed level (Redis, Gateway:Cache:Redis) it is never on a client's path for long: writes and
            // backplane notifications in the background, a read given up after the soft timeout when a stale answer can
            // stand in and after the hard one otherwise (the connection's circuit breaker then skips Redis for a while).
            AllowBackgroundDistributedCacheOperations = true,
            AllowBackgroundBackplaneOperations = true,
            DistributedCacheSoftTimeout = DistributedSoftTimeout,
            DistributedCacheHardTimeout = DistributedHardTimeout,
        };
    }

    public TimeSpan Ttl { get; }

    public TimeSpan StaleWhileRevalidate { get; }

    public TimeSpan StaleIfError { get; }

    /// <summary>Header names whose values are part of the key, as configured.</summary>
    public string[] VaryBy { get; }

    /// <summary>Whether a request with <c>Authorization</c> uses the cache (the header then in the key).</summary>
    public bool CacheAuthorized { get; }

    /// <summary>Whether answers are stored although the downstream said <c>no-store</c>, <c>no-cache</c> or <c>private</c>, or set a cookie.</summary>
    public bool IgnoreCacheControl { get; }

    public FusionCacheEntryOptions EntryOptions { get; }
}
