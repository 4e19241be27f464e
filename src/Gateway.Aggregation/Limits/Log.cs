namespace Gateway.Limits;

internal static partial class Log
{
    [LoggerMessage(EventId = 801, EventName = "RequestRateLimited", Level = LogLevel.Debug,
        Message = "{Method} {Endpoint} answered 429: {Scope} rate limit reached")]
    public static partial void RequestRateLimited(ILogger logger, string method, string? endpoint, string scope);

    [LoggerMessage(EventId = 802, EventName = "RequestShed", Level = LogLevel.Debug,
        Message = "{Method} {Endpoint} answered 503: MaxConcurrentRequests reached")]
    public static partial void RequestShed(ILogger logger, string method, string? endpoint);
}
