using Gateway.Caching;
using Gateway.Configuration;
using Gateway.Downstream;
using Gateway.Limits;
using Gateway.Model;
using Gateway.Shutdown;
using Gateway.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Aggregation;

internal static class AggregationExtensions
{
    /// <summary>
    /// Registers the fan-out engine, the validated aggregate catalog (from <paramref name="section"/> and the clusters
    /// YARP's config providers declare) and the per-source response cache.
    /// </summary>
    public static IServiceCollection AddAggregation(this IServiceCollection services, IConfigurationSection section)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new AggregationCatalog(
            section,
            errors => ProxyDeclarations.FromProviders(sp.GetServices<IProxyConfigProvider>(), errors),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetServices<IReservedEndpoints>(),
            sp.GetServices<IConfigurationCheck>(),
            errors => ProxyDeclarations.Validate(
                sp.GetServices<IProxyConfigProvider>(),
                sp.GetService<IConfigValidator>(),
                [.. sp.GetServices<Yarp.ReverseProxy.LoadBalancing.ILoadBalancingPolicy>().Select(p => p.Name)],
                errors)));
        // Not ApplicationStopping: requests in flight get the drain (Gateway:Shutdown:DrainTimeout) first.
        services.AddShutdownDrain();
        // The validated options, for the features that need no more of the catalog (shutdown, diagnostics, caching): the
        // catalog reads, checks and owns them; start-up fails on a bad key before anything reads them.
        services.TryAddSingleton<IOptions<GatewayOptions>>(sp => Options.Create(sp.GetRequiredService<AggregationCatalog>().Options));
        // The downstreams, datasets and inbound limits the configuration declares, for the features that need those alone.
        services.TryAddSingleton(sp => sp.GetRequiredService<AggregationCatalog>().Downstreams);
        services.TryAddSingleton(sp => sp.GetRequiredService<AggregationCatalog>().Datasets);
        services.TryAddSingleton(sp => sp.GetRequiredService<AggregationCatalog>().Limits);
        services.TryAddSingleton<CallTransports>();
        services.TryAddSingleton<DownstreamClient>();
        services.TryAddSingleton<DownstreamInvoker>();
        services.AddMetrics();
        services.TryAddSingleton<GatewayMetrics>();
        services.TryAddSingleton(sp => new ResponseCache(
            sp.GetRequiredService<AggregationCatalog>().Options.Cache.MaxBytes,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ResponseCache>>(),
            sp.GetService<IResponseCacheSharing>()));
        services.TryAddSingleton(sp => new FanOutExecutor(
            sp.GetRequiredService<DownstreamInvoker>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<FanOutExecutor>>(),
            sp.GetRequiredService<GatewayMetrics>(),
            sp.GetRequiredService<AggregationCatalog>().Options.Deadline.MinBudget,
            // Not ApplicationStopping: requests in flight get the drain (Gateway:Shutdown:DrainTimeout) first.
            sp.GetRequiredService<ShutdownDrain>().Expired,
            sp.GetRequiredService<ResponseCache>(),
            new SourceFailureLog(
                sp.GetRequiredService<ILogger<FanOutExecutor>>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<AggregationCatalog>().Options.Logging.FailureLogInterval)));
        services.AddHostedService(sp => new DownstreamStateMetrics(sp.GetRequiredService<GatewayMetrics>(), sp.GetRequiredService<DownstreamRegistry>()));
        services.AddHostedService<StartupReport>();
        return services;
    }

    /// <summary>
    /// Maps every aggregate of the configuration as a Minimal-API endpoint named after its key.
    /// Throws <see cref="GatewayConfigurationException"/> when the configuration is invalid.
    /// </summary>
    public static IEndpointRouteBuilder MapAggregates(this IEndpointRouteBuilder endpoints)
    {
        var catalog = endpoints.ServiceProvider.GetRequiredService<AggregationCatalog>();
        catalog.ThrowIfInvalid();
        foreach (var definition in catalog.Configured)
        {
            Map(endpoints, catalog, definition);
        }

        return endpoints;
    }

    /// <summary>
    /// Maps one aggregate defined in code; it is validated and executed exactly like a configured one.
    /// </summary>
    public static IEndpointConventionBuilder MapCodeAggregate(IEndpointRouteBuilder endpoints, string name, string route, Action<AggregateBuilder> configure)
    {
        var builder = new AggregateBuilder(route);
        configure(builder);
        var catalog = endpoints.ServiceProvider.GetRequiredService<AggregationCatalog>();
        catalog.ThrowIfInvalid();
        return Map(endpoints, catalog, catalog.Compile(name, builder.Build()));
    }

    private static IEndpointConventionBuilder Map(IEndpointRouteBuilder endpoints, AggregationCatalog catalog, AggregateDefinition definition)
    {
        var services = endpoints.ServiceProvider;
        var endpoint = new AggregateEndpoint(catalog.CreatePlan(definition), services.GetRequiredService<FanOutExecutor>(), services.GetRequiredService<GatewayMetrics>(), services.GetRequiredService<TimeProvider>());
        Log.AggregateMapped(services.GetRequiredService<ILogger<FanOutExecutor>>(), definition.Name, definition.Method, definition.Route, definition.Sources.Count);
        return endpoints.MapMethods(definition.Route, [definition.Method], endpoint.HandleAsync)
            .WithName(definition.Name)
            .WithDisplayName($"aggregate {definition.Name}")
            .WithMetadata(definition, new AggregateTraffic(definition.Name))
            .RequireAggregateRateLimit(definition.Name, definition.RateLimit, services);
    }
}
