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
    /// readiness check that waits for every required dataset's first load. Sharing between instances is
    /// Gateway.Caching.Redis's (<c>AddRedisSharing</c>).
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
        services.TryAddSingleton(sp => new DatasetRefresher(
            sp.GetRequiredService<DownstreamInvoker>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<DatasetRefresher>>(),
            sp.GetRequiredService<GatewayMetrics>(),
            // Registered by the Redis sharing (Gateway.Caching.Redis) when Gateway:Cache:Redis is set; else each instance refreshes alone.
            sp.GetService<DatasetSharing>()));
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
}
