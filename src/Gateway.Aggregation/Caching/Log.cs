namespace Gateway.Caching;

internal static partial class Log
{
    [LoggerMessage(EventId = 101, EventName = "DatasetUnused", Level = LogLevel.Warning,
        Message = "Cached dataset {Dataset} is read by no aggregate; it is refreshed anyway (for the management endpoint)")]
    public static partial void DatasetUnused(ILogger logger, string dataset);

    [LoggerMessage(EventId = 102, EventName = "DatasetRefreshed", Level = LogLevel.Debug,
        Message = "Cached dataset {Dataset} refreshed: {Bytes} bytes in {ElapsedMs} ms")]
    public static partial void Refreshed(ILogger logger, string dataset, int bytes, long elapsedMs);

    [LoggerMessage(EventId = 103, EventName = "DatasetRefreshFailed", Level = LogLevel.Warning,
        Message = "Cached dataset {Dataset}: refresh failed with {Kind} ({FailuresInRow} in a row), the last good copy stays: {Reason}")]
    public static partial void RefreshFailed(ILogger logger, string dataset, string kind, string reason, int failuresInRow);

    [LoggerMessage(EventId = 105, EventName = "RefreshQueueFull", Level = LogLevel.Warning,
        Message = "Cached dataset {Dataset}: the refresh queue is full, trying again in {DelayMs} ms")]
    public static partial void RefreshQueueFull(ILogger logger, string dataset, long delayMs);

    [LoggerMessage(EventId = 106, EventName = "SharedCopyTaken", Level = LogLevel.Debug,
        Message = "Cached dataset {Dataset}: took the shared copy loaded by {Writer} ({Bytes} bytes, {AgeMs} ms old) instead of calling the downstream")]
    public static partial void SharedCopyTaken(ILogger logger, string dataset, string writer, int bytes, long ageMs);

    [LoggerMessage(EventId = 107, EventName = "SharedCopyInvalid", Level = LogLevel.Warning,
        Message = "Cached dataset {Dataset}: the shared copy in Redis is invalid ({Problem}); ignored: it counts as no copy, and the refresh replaces it ({Suppressed} more such values not logged)")]
    public static partial void SharedCopyInvalid(ILogger logger, string dataset, string problem, int suppressed);

    [LoggerMessage(EventId = 108, EventName = "SharedStoreFailed", Level = LogLevel.Warning,
        Message = "Redis: could not {Operation} cached dataset {Dataset} ({Error}); refreshing on this instance alone until it answers again ({Suppressed} more such failures not logged)")]
    public static partial void SharedStoreFailed(ILogger logger, string operation, string dataset, string error, int suppressed);

    [LoggerMessage(EventId = 120, EventName = "DatasetLeaseGivenUp", Level = LogLevel.Warning,
        Message = "Cached dataset {Dataset}: {FailuresInRow} refreshes in a row failed; gave the refresh lease up so that another instance can refresh it")]
    public static partial void LeaseGivenUp(ILogger logger, string dataset, int failuresInRow);

    [LoggerMessage(EventId = 121, EventName = "DatasetLeaseTakenOver", Level = LogLevel.Warning,
        Message = "Cached dataset {Dataset}: took the refresh lease over from {Holder}: {Reason}")]
    public static partial void LeaseTakenOver(ILogger logger, string dataset, string holder, string reason);

    [LoggerMessage(EventId = 122, EventName = "DatasetLeaseRepaired", Level = LogLevel.Warning,
        Message = "Cached dataset {Dataset}: the refresh lease in Redis (held by {Holder}) had no time to live and would never have lapsed; replaced it with this instance's, which has one")]
    public static partial void LeaseRepaired(ILogger logger, string dataset, string holder);
}
