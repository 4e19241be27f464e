using Gateway.Caching;
using Gateway.Configuration;
using Yarp.ReverseProxy;

namespace Gateway.Aggregation;

/// <summary>
/// Runs once everything is mapped, before the server accepts requests: refuses aggregates whose clusters YARP has
/// not loaded (an app that embeds the engine and never mapped YARP's endpoints) and, in the gateway's own host, a
/// configuration that serves nothing; says at Information which file was read and what it mapped.
/// </summary>
internal sealed class StartupReport(AggregationCatalog catalog, IConfiguration configuration, IProxyStateLookup proxyState, IServiceProvider services, ILogger<StartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var file = Check();
        Log.ConfigurationLoaded(logger, file ?? "(the app's configuration)", catalog.Downstreams.Count, catalog.RouteCount, catalog.MappedCount);
        return Task.CompletedTask;
    }

    /// <summary>What start-up refuses once everything is mapped (throws <see cref="GatewayConfigurationException"/>); returns the file read, if any.</summary>
    public string? Check()
    {
        if (catalog.MappedCount > 0 && catalog.Downstreams.Count > 0 && !proxyState.GetClusters().Any())
        {
            // YARP loads its configuration when its endpoints are mapped: without that every call finds no destination.
            throw new GatewayConfigurationException("ReverseProxy: YARP has loaded no clusters: map its endpoints with app.MapReverseProxy() (with or without routes) so that the aggregates' clusters are live");
        }

        if (!string.IsNullOrEmpty(catalog.Options.Cache.Redis) && services.GetService<ISharedDatasetStore>() is null)
        {
            throw new GatewayConfigurationException("Gateway:Cache:Redis: set, but nothing shares through it: reference Gateway.Caching.Redis and call AddRedisSharing() on the gateway's builder");
        }

        var file = configuration[HostKeys.ConfigurationFile];
        if (file is not null && catalog.MappedCount == 0 && catalog.RouteCount == 0)
        {
            throw new GatewayConfigurationException($"{file}: nothing to serve: declare aggregates under Gateway:Aggregates or pass-through routes under ReverseProxy:Routes");
        }

        return file;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
