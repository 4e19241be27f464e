using Gateway.Configuration;

namespace Gateway.Aggregation;

/// <summary>
/// Runs once everything is mapped, before the server accepts requests: refuses a configuration that serves
/// nothing, and says at Information which file was read and what it mapped.
/// </summary>
internal sealed class StartupReport(AggregationCatalog catalog, IConfiguration configuration, ILogger<StartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var file = configuration[HostKeys.ConfigurationFile] ?? "(no file)";
        if (catalog.MappedCount == 0 && catalog.RouteCount == 0)
        {
            throw new GatewayConfigurationException($"{file}: nothing to serve: declare aggregates under Gateway:Aggregates or pass-through routes under ReverseProxy:Routes");
        }

        Log.ConfigurationLoaded(logger, file, catalog.Downstreams.Count, catalog.RouteCount, catalog.MappedCount);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
