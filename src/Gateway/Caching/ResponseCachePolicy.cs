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

    public ResponseCachePolicy(TimeSpan ttl, TimeSpan staleWhileRevalidate, TimeSpan staleIfError, IReadOnlyList<string> varyBy, bool cacheAuthorized)
    {
        Ttl = ttl;
        StaleWhileRevalidate = staleWhileRevalidate;
        StaleIfError = staleIfError;
        VaryBy = [.. varyBy];
        CacheAuthorized = cacheAuthorized;
        var duration = ttl + staleWhileRevalidate;
        EntryOptions = new FusionCacheEntryOptions
        {
            Duration = duration,
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
        };
    }

    public TimeSpan Ttl { get; }

    public TimeSpan StaleWhileRevalidate { get; }

    public TimeSpan StaleIfError { get; }

    /// <summary>Header names whose values are part of the key, as configured.</summary>
    public string[] VaryBy { get; }

    /// <summary>Whether a request with <c>Authorization</c> uses the cache (the header then in the key).</summary>
    public bool CacheAuthorized { get; }

    public FusionCacheEntryOptions EntryOptions { get; }
}
