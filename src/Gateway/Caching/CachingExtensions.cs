using Gateway.Aggregation;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Caching;

public static class CachingExtensions
{
    /// <summary>
    /// Registers the background refresh of the datasets under <c>Gateway:CachedData</c>: the scheduler
    /// (producer) and <c>Gateway:Refresh:Workers</c> workers (consumers) as hosted services, and the
    /// readiness check that waits for every required dataset's first load.
    /// </summary>
    public static IServiceCollection AddCachedData(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => sp.GetRequiredService<AggregationCatalog>().Datasets);
        services.TryAddSingleton(sp => new RefreshQueue(sp.GetRequiredService<DatasetRegistry>().All.Count));
        services.TryAddSingleton<DatasetRefresher>();
        services.TryAddSingleton<RefreshScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<RefreshScheduler>());
        services.AddHostedService(sp => new RefreshWorkers(
            sp.GetRequiredService<RefreshQueue>(),
            sp.GetRequiredService<DatasetRefresher>(),
            sp.GetRequiredService<RefreshScheduler>(),
            sp.GetRequiredService<AggregationCatalog>().Options.Refresh.Workers));
        services.AddHealthChecks().AddCheck<CachedDataReadinessCheck>("cached-data", tags: [CachedDataReadinessCheck.ReadyTag]);
        return services;
    }
}
