using Gateway.Caching.Redis;
using Gateway.Configuration;
using Gateway.Downstream;
using Gateway.Health;
using Gateway.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Caching;

internal static class CachingExtensions
{
    /// <summary>
    /// Registers the background refresh of the datasets under <c>Gateway:CachedData</c>: the scheduler
    /// (producer) and <c>Gateway:Refresh:Workers</c> workers (consumers) as hosted services, and the
    /// readiness check that waits for every required dataset's first load. With <c>Gateway:Cache:Redis</c>
    /// set, the one shared Redis connection and the sharing of datasets and cached responses between instances through it.
    /// </summary>
    internal static IServiceCollection AddCachedDataCore(this IServiceCollection services)
    {
        // Once: the management endpoints need it too, and a second set of hosted services would refresh twice.
        if (services.Any(d => d.ServiceType == typeof(RefreshScheduler)))
        {
            return services;
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new RefreshQueue(sp.GetRequiredService<DatasetRegistry>().All.Count));
        services.TryAddSingleton(sp => new RedisConnection(
            sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Cache.Redis,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<RedisConnection>>()));
        services.TryAddSingleton<ISharedDatasetStore>(sp => new RedisDatasetStore(sp.GetRequiredService<RedisConnection>(), NewInstanceId()));
        services.TryAddSingleton<DatasetSharing>();

        // The response cache resolves this optionally: null (nothing shared) without Gateway:Cache:Redis.
        services.TryAddSingleton<IResponseCacheSharing>(sp => sp.GetRequiredService<RedisConnection>() is { IsConfigured: true } connection
            ? new RedisResponseCacheSharing(connection, sp.GetRequiredService<ILoggerFactory>())
            : null!);
        services.TryAddSingleton(sp => new DatasetRefresher(
            sp.GetRequiredService<DownstreamInvoker>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<DatasetRefresher>>(),
            sp.GetRequiredService<GatewayMetrics>(),
            sp.GetRequiredService<RedisConnection>().IsConfigured ? sp.GetRequiredService<DatasetSharing>() : null));
        services.TryAddSingleton<RefreshScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<RefreshScheduler>());
        services.AddHostedService(sp => new DatasetStateMetrics(sp.GetRequiredService<GatewayMetrics>(), sp.GetRequiredService<DatasetRegistry>(), sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService(sp => new RefreshWorkers(
            sp.GetRequiredService<RefreshQueue>(),
            sp.GetRequiredService<DatasetRefresher>(),
            sp.GetRequiredService<RefreshScheduler>(),
            sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Refresh.Workers,
            sp.GetRequiredService<DatasetRegistry>()));
        services.AddHealthChecks().AddCheck<CachedDataReadinessCheck>("cached-data", tags: [HealthExtensions.ReadyTag]);
        return services;
    }

    // Unique per process and per host built in it (tests run two gateways in one process), readable in Redis.
    private static string NewInstanceId() => $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";
}
