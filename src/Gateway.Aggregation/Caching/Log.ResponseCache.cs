namespace Gateway.Caching;

internal static partial class Log
{
    [LoggerMessage(EventId = 111, EventName = "CachedCallFailed", Level = LogLevel.Debug,
        Message = "Cached call of source {Source} failed with {Kind}; the stale answer stands in while StaleIfError allows: {Reason}")]
    public static partial void CachedCallFailed(ILogger logger, string source, string kind, string reason);
}
