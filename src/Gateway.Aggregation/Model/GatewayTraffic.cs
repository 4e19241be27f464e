using Yarp.ReverseProxy.Model;

namespace Gateway.Model;

/// <summary>
/// Which requests the inbound limits and the shutdown drain cover: the traffic the gateway serves, aggregates
/// (<see cref="AggregateTraffic"/>) and pass-through routes (YARP's <see cref="RouteModel"/>), and the endpoints
/// that count as such (<see cref="Marker"/>: the OpenAPI document, which a client could otherwise ask for without
/// limit). Its own operational endpoints (health probes, metrics, management, the demo) are never limited, so a
/// gateway under load still answers its load balancer and its scraper. Endpoint metadata, so that the features
/// that ask need not know the aggregates' types.
/// </summary>
internal static class GatewayTraffic
{
    /// <summary>Response header of every answer to an aggregate, saying whether every source succeeded.</summary>
    public const string CompleteHeader = "X-Aggregate-Complete";

    public static bool Is(HttpContext context) => context.GetEndpoint() is { } endpoint
        && (endpoint.Metadata.GetMetadata<AggregateTraffic>() is not null || endpoint.Metadata.GetMetadata<RouteModel>() is not null
            || endpoint.Metadata.GetMetadata<Marker>() is not null);

    /// <summary>The aggregate the request is for, null for a route or another endpoint.</summary>
    public static AggregateTraffic? Aggregate(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<AggregateTraffic>();

    /// <summary>
    /// The status an aggregate's request is recorded with (metric and span), its refusals included. Nothing was answered
    /// when the client left or the endpoint threw: say so, not the 200 the response still holds (499 is "client closed
    /// request"; the server then answers 500).
    /// </summary>
    public static int AnsweredStatus(HttpContext context, bool threw = false) =>
        context.Response.HasStarted ? context.Response.StatusCode
        : context.RequestAborted.IsCancellationRequested ? StatusCodes.Status499ClientClosedRequest
        : threw ? StatusCodes.Status500InternalServerError
        : context.Response.StatusCode;

    /// <summary>Endpoint metadata: this endpoint is under the inbound limits though it is neither an aggregate nor a route.</summary>
    internal sealed class Marker
    {
        public static readonly Marker Instance = new();

        private Marker()
        {
        }
    }
}

/// <summary>Endpoint metadata of an aggregate: it is gateway traffic, and its name for the limits' answers and metrics.</summary>
internal sealed record AggregateTraffic(string Name);
