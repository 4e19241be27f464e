using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;

namespace Gateway.Caching.Redis;

/// <summary>
/// Shares the response cache through the Redis of <c>Gateway:Cache:Redis</c>, on the one shared connection: a
/// distributed second level (<see cref="RedisCache"/>, keys <c>gateway:response:…</c>, values in the format of
/// <see cref="CachedResponseSerializer"/>) and a backplane (channel <c>gateway:response:…</c>), so that an answer
/// stored or refreshed by one instance is served by the others. Redis stays off every client's path: its reads are
/// bounded (<see cref="ResponseCachePolicy"/>) and refused at once while the connection is down
/// (<see cref="ConnectedOnlyDistributedCache"/>), writes and notifications run in the background, and after an
/// error it is left alone for <see cref="CircuitBreakerDuration"/>; the backplane re-syncs by itself once Redis is back.
/// </summary>
internal sealed class RedisResponseCacheSharing(RedisConnection connection, ILoggerFactory loggerFactory) : IResponseCacheSharing
{
    public const string KeyPrefix = "gateway:response:";

    /// <summary>After a Redis error the response cache does not try Redis again for this long (memory and downstream only).</summary>
    public static readonly TimeSpan CircuitBreakerDuration = TimeSpan.FromSeconds(3);

    public ILogger<FusionCache> Logger { get; } = new RedisTroubleLogger<FusionCache>(loggerFactory.CreateLogger<FusionCache>());

    public void Configure(FusionCacheOptions options)
    {
        options.CacheKeyPrefix = KeyPrefix;
        options.BackplaneChannelPrefix = KeyPrefix.TrimEnd(':');
        options.DistributedCacheCircuitBreakerDuration = CircuitBreakerDuration;
        options.BackplaneCircuitBreakerDuration = CircuitBreakerDuration;
        // Start-up never waits for Redis: the backplane subscribes in the background.
        options.WaitForInitialBackplaneSubscribe = false;

        // No auto-recovery: its queue keeps an item per key whose write or notification failed, for the entry's whole
        // Duration and by default without a bound, and once bounded it sorts the whole queue on every add. What it
        // would re-send is worth little here: a missed write costs another instance one call, a missed notification
        // leaves it a copy no older than its own Ttl allows.
        options.EnableAutoRecovery = false;

        // Redis trouble is logged by the connection (throttled), a failing downstream by the source failure log
        // (throttled); FusionCache's per-operation lines stay at Debug (RedisTroubleLogger takes those with no option).
        options.DistributedCacheErrorsLogLevel = LogLevel.Debug;
        options.DistributedCacheSyntheticTimeoutsLogLevel = LogLevel.Debug;
        options.BackplaneErrorsLogLevel = LogLevel.Debug;
        options.BackplaneSyntheticTimeoutsLogLevel = LogLevel.Debug;
        options.SerializationErrorsLogLevel = LogLevel.Debug;
        options.FactoryErrorsLogLevel = LogLevel.Debug;
        options.FactorySyntheticTimeoutsLogLevel = LogLevel.Debug;
        options.FailSafeActivationLogLevel = LogLevel.Debug;
        options.EventHandlingErrorsLogLevel = LogLevel.Debug;
    }

    public void Attach(IFusionCache cache, long maxBytes, TimeProvider timeProvider)
    {
        var distributed = new ConnectedOnlyDistributedCache(
            new RedisCache(Options.Create(new RedisCacheOptions { ConnectionMultiplexerFactory = connection.ConnectAsync })),
            connection);
        cache.SetupDistributedCache(distributed, new CachedResponseSerializer(maxBytes, timeProvider, loggerFactory.CreateLogger<CachedResponseSerializer>()));
        cache.SetupBackplane(new RedisBackplane(
            Options.Create(new RedisBackplaneOptions { ConnectionMultiplexerFactory = connection.ConnectAsync }),
            new RedisTroubleLogger<RedisBackplane>(loggerFactory.CreateLogger<RedisBackplane>())));
    }
}
