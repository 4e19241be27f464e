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

    public ILogger<FusionCache> Logger { get; } = loggerFactory.CreateLogger<FusionCache>();

    public void Configure(FusionCacheOptions options)
    {
        options.CacheKeyPrefix = KeyPrefix;
        options.BackplaneChannelPrefix = KeyPrefix.TrimEnd(':');
        options.DistributedCacheCircuitBreakerDuration = CircuitBreakerDuration;
        options.BackplaneCircuitBreakerDuration = CircuitBreakerDuration;
        // Start-up never waits for Redis: the backplane subscribes in the background.
        options.WaitForInitialBackplaneSubscribe = false;
        options.EnableAutoRecovery = true;
        // Redis trouble is logged by the connection (throttled); FusionCache's own lines stay below Warning.
        options.DistributedCacheErrorsLogLevel = LogLevel.Debug;
        options.DistributedCacheSyntheticTimeoutsLogLevel = LogLevel.Debug;
        options.BackplaneErrorsLogLevel = LogLevel.Debug;
        options.BackplaneSyntheticTimeoutsLogLevel = LogLevel.Debug;
    }

    public void Attach(IFusionCache cache)
    {
        var distributed = new ConnectedOnlyDistributedCache(
            new RedisCache(Options.Create(new RedisCacheOptions { ConnectionMultiplexerFactory = connection.ConnectAsync })),
            connection);
        cache.SetupDistributedCache(distributed, new CachedResponseSerializer());
        cache.SetupBackplane(new RedisBackplane(
            Options.Create(new RedisBackplaneOptions { ConnectionMultiplexerFactory = connection.ConnectAsync }),
            loggerFactory.CreateLogger<RedisBackplane>()));
    }
}
