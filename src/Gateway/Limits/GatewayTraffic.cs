using Gateway.Aggregation;
using Yarp.ReverseProxy.Model;

namespace Gateway.Limits;

/// <summary>
/// Which requests the inbound limits cover: the traffic the gateway serves, aggregates and pass-through
/// routes. Its own endpoints (health probes, metrics, OpenAPI, management, the demo) are never limited, so a
/// gateway under load still answers its load balancer and its scraper.
/// </summary>
internal static class GatewayTraffic
{
    public static bool Is(HttpContext context) => context.GetEndpoint() is { } endpoint
        && (endpoint.Metadata.GetMetadata<AggregateDefinition>() is not null || endpoint.Metadata.GetMetadata<RouteModel>() is not null);

    public static AggregateDefinition? Aggregate(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<AggregateDefinition>();
}
