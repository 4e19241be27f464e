namespace Gateway.Logging;

internal static partial class Log
{
    [LoggerMessage(EventId = 601, EventName = "RequestIdReplaced", Level = LogLevel.Debug,
        Message = "The client's X-Request-Id was replaced by {XRequestId}: {Problem}")]
    public static partial void RequestIdReplaced(ILogger logger, string problem, string xRequestId);
}
