namespace Gateway.Caching;

internal static partial class Log
{
    [LoggerMessage(EventId = 111, EventName = "CachedCallFailed", Level = LogLevel.Debug,
        Message = "Cached call of source {Source} failed with {Kind}; the stale answer stands in while StaleIfError allows: {Reason}")]
    public static partial void CachedCallFailed(ILogger logger, string source, string kind, string reason);

    [LoggerMessage(EventId = 112, EventName = "SharedResponseInvalid", Level = LogLevel.Warning,
        Message = "Redis: a response-cache entry read back is not one this gateway writes ({Problem}); treated as a miss and overwritten by the next call ({Suppressed} more such entries not logged)")]
    public static partial void SharedResponseInvalid(ILogger logger, string problem, int suppressed);
}
