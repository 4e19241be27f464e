namespace Gateway.Aggregation;

internal static partial class Log
{
    // Warning for a required source, Information for an optional one; throttled per source (SourceFailureLog).
    [LoggerMessage(EventId = 1, EventName = "SourceFailed",
        Message = "Aggregate {Aggregate}: source {Source} (required: {Required}) failed with {Kind}: {Reason}; trace {TraceId}; {Suppressed} earlier failures of this source not logged")]
    public static partial void SourceFailed(ILogger logger, LogLevel level, string aggregate, string source, bool required, string kind, string reason, string traceId, int suppressed);

    [LoggerMessage(EventId = 2, EventName = "SourceCallUnexpectedError", Level = LogLevel.Error,
        Message = "Aggregate {Aggregate}: call of source {Source} failed unexpectedly")]
    public static partial void SourceCallUnexpectedError(ILogger logger, string aggregate, string source, Exception exception);

    [LoggerMessage(EventId = 3, EventName = "AggregateMapped", Level = LogLevel.Debug,
        Message = "Aggregate {Aggregate} mapped to {Method} {Route} with {SourceCount} sources")]
    public static partial void AggregateMapped(ILogger logger, string aggregate, string method, string route, int sourceCount);

    [LoggerMessage(EventId = 4, EventName = "ConfigurationLoaded", Level = LogLevel.Information,
        Message = "Gateway configuration read from {File}: {ClusterCount} clusters, {RouteCount} pass-through routes, {AggregateCount} aggregates mapped")]
    public static partial void ConfigurationLoaded(ILogger logger, string file, int clusterCount, int routeCount, int aggregateCount);
}
