namespace Gateway.Caching.Redis;

internal static partial class Log
{
    [LoggerMessage(EventId = 109, EventName = "RedisConnectionFailed", Level = LogLevel.Warning,
        Message = "Redis connection failed ({Failure}); cached data is refreshed by each instance alone until it is back ({Suppressed} more such failures not logged)")]
    public static partial void RedisConnectionFailed(ILogger logger, string failure, int suppressed);

    [LoggerMessage(EventId = 110, EventName = "RedisConnectionRestored", Level = LogLevel.Information,
        Message = "Redis connection restored; cached data is shared again")]
    public static partial void RedisConnectionRestored(ILogger logger);

    [LoggerMessage(EventId = 112, EventName = "SharedResponseInvalid", Level = LogLevel.Warning,
        Message = "Redis: a response-cache entry read back is not one this gateway writes ({Problem}); treated as a miss and overwritten by the next call ({Suppressed} more such entries not logged)")]
    public static partial void SharedResponseInvalid(ILogger logger, string problem, int suppressed);
}
