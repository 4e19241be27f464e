using Gateway.Aggregation;
using Yarp.ReverseProxy.Model;

namespace Gateway.Limits;

/// <summary>
/// Which requests the inbound limits cover: the traffic the gateway serves, aggregates and pass-through
/// routes, and the endpoints that count as such (<see cref="Marker"/>: the OpenAPI document, which a client
/// could otherwise ask for without limit). Its own operational endpoints (health probes, metrics, management,
/// the demo) are never limited, so a gateway under load still answers its load balancer and its scraper.
/// </summary>
internal static class GatewayTraffic
{
    public static bool Is(HttpContext context) => context.GetEndpoint() is { } endpoint
        && (endpoint.Metadata.GetMetadata<AggregateDefinition>() is not null || endpoint.Metadata.GetMetadata<RouteModel>() is not null
            || endpoint.Metadata.GetMetadata<Marker>() is not null);

    public static AggregateDefinition? Aggregate(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<AggregateDefinition>();

    /// <summary>Endpoint metadata: this endpoint is under the inbound limits though it is neither an aggregate nor a route.</summary>
    internal sealed class Marker
    {
        public static readonly Marker Instance = new();

        private Marker()
        {
        }
    }
}
