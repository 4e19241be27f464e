using Gateway.Caching;
using Gateway.Caching.Redis;
using Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Shares the gateway's cached data between instances through Redis.</summary>
public static class GatewayRedisBuilderExtensions
{
    /// <summary>
    /// When the section's <c>Cache:Redis</c> names a Redis: one connection, the datasets refreshed by one instance for
    /// all (a lease per dataset, the copy shared), and cached responses shared as FusionCache's distributed level and
    /// backplane. Without the key everything stays in each instance's memory. Adds cached data
    /// (<see cref="GatewayBuilderExtensions.AddCachedData"/>) if it is not there yet.
    /// </summary>
    public static IGatewayBuilder AddRedisSharing(this IGatewayBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        builder.AddCachedData();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigurationCheck, RedisConfigurationCheck>());
        services.TryAddSingleton(sp => new RedisConnection(
            sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Cache.Redis,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<RedisConnection>>()));
        services.TryAddSingleton<ISharedDatasetStore>(sp => new RedisDatasetStore(sp.GetRequiredService<RedisConnection>(), NewInstanceId()));

        // Both resolved optionally by the engine: null (nothing shared) without Gateway:Cache:Redis.
        services.TryAddSingleton(sp => sp.GetRequiredService<RedisConnection>().IsConfigured
            ? ActivatorUtilities.CreateInstance<DatasetSharing>(sp)
            : null!);
        services.TryAddSingleton<IResponseCacheSharing>(sp => sp.GetRequiredService<RedisConnection>() is { IsConfigured: true } connection
            ? new RedisResponseCacheSharing(connection, sp.GetRequiredService<ILoggerFactory>())
            : null!);
        return builder;
    }

    // Unique per process and per host built in it (tests run two gateways in one process), readable in Redis.
    private static string NewInstanceId() => $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";
}
