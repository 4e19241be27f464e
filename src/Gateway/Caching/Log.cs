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

    [LoggerMessage(EventId = 104, EventName = "DatasetRefreshUnexpectedError", Level = LogLevel.Error,
        Message = "Cached dataset {Dataset}: refresh failed unexpectedly")]
    public static partial void RefreshUnexpectedError(ILogger logger, string dataset, Exception exception);

    [LoggerMessage(EventId = 105, EventName = "RefreshQueueFull", Level = LogLevel.Warning,
        Message = "Cached dataset {Dataset}: the refresh queue is full, trying again in {DelayMs} ms")]
    public static partial void RefreshQueueFull(ILogger logger, string dataset, long delayMs);
}
