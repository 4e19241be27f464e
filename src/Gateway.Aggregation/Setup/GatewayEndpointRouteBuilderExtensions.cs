using Gateway.Aggregation;
using Gateway.Management;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the gateway's aggregates in an ASP.NET Core app.</summary>
public static class GatewayEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps every aggregate of the configuration as an endpoint named after its key (and the management endpoints,
    /// when added and enabled). Throws <see cref="Gateway.Configuration.GatewayConfigurationException"/>, naming
    /// every bad key at once, when the configuration is invalid.
    /// </summary>
    public static IEndpointRouteBuilder MapGateway(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapAggregates();
        endpoints.MapGatewayManagement();
        return endpoints;
    }

    /// <summary>
    /// Maps one aggregate defined in code on <paramref name="route"/>: validated and run exactly like a configured one,
    /// on the same clusters.
    /// </summary>
    public static IEndpointConventionBuilder MapAggregate(this IEndpointRouteBuilder endpoints, string name, string route, Action<AggregateBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        return AggregationExtensions.MapCodeAggregate(endpoints, name, route, configure);
    }
}
