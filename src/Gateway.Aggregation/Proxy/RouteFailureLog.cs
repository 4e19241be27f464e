using System.Diagnostics;
using Gateway.Downstream;
using Gateway.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Proxy;

/// <summary>
/// Logs a pass-through route's failures as the gateway logs a failing source (<c>Aggregation.SourceFailureLog</c>): a
/// Warning naming the route, the downstream and the kind of failure, at most one line per route per
/// <c>Gateway:Logging:FailureLogInterval</c> (the next says how many were held back), no address and no stack trace.
/// YARP's own line for the same failure (a Warning with the exception, per request) is held back by default
/// (<see cref="ProxyExtensions"/>). A request the client gave up on did not fail: Debug, not throttled.
/// </summary>
internal sealed partial class RouteFailureLog(ILogger<RouteFailureLog> logger, TimeProvider timeProvider, TimeSpan interval)
{
    private readonly KeyedLogThrottle<string> _throttles = new(timeProvider, interval);

    /// <summary>Says what became of a proxied request that failed: <paramref name="error"/> from YARP, or the route's deadline passing.</summary>
    public void Report(string route, DownstreamService downstream, ForwarderError? error, bool deadlinePassed)
    {
        var (kind, reason) = deadlinePassed
            ? ("timeout", "no answer within the route's deadline")
            : error switch
            {
                ForwarderError.RequestTimedOut => ("timeout", $"downstream '{downstream.Id}' was silent past the cluster's ActivityTimeout"),
                ForwarderError.NoAvailableDestinations => ("unavailable", downstream.RouteMessages.NoDestination),
                ForwarderError.Request or ForwarderError.RequestBodyDestination or ForwarderError.ResponseBodyDestination
                    or ForwarderError.ResponseHeaders or ForwarderError.UpgradeRequestDestination or ForwarderError.UpgradeResponseDestination
                    => ("unavailable", downstream.RouteMessages.Unavailable),
                // The client's side: it left, or its body or connection failed.
                _ => ("cancelled", $"the client's side of the request failed ({error})"),
            };
        var level = kind == "cancelled" ? LogLevel.Debug : LogLevel.Warning;
        if (!logger.IsEnabled(level))
        {
            return;
        }

        var suppressed = 0;
        if (level == LogLevel.Debug || _throttles.TryEnter(route, out suppressed))
        {
            var traceId = Activity.Current is { } activity ? activity.TraceId.ToHexString() : "";
            RouteFailed(logger, level, route, downstream.Id, kind, reason, traceId, suppressed);
        }
    }

    [LoggerMessage(EventId = 301, EventName = "RouteFailed",
        Message = "Route {Route} to downstream '{Downstream}' failed with {Kind}: {Reason}; trace {TraceId}; {Suppressed} earlier failures of this route not logged")]
    private static partial void RouteFailed(ILogger logger, LogLevel level, string route, string downstream, string kind, string reason, string traceId, int suppressed);
}
