namespace Gateway.Diagnostics;

internal static partial class Log
{
    [LoggerMessage(EventId = 701, EventName = "ThreadPoolLag", Level = LogLevel.Warning,
        Message = "Thread pool lag: a work item started {LagMs} ms after it was queued (warning above {LagWarningMs} ms); "
            + "{ThreadCount} pool threads (minimum {MinThreads}), {PendingWorkItems} work items queued, {CompletedWorkItems} completed; "
            + "{Suppressed} earlier lag warnings not logged. Look for blocking calls (.Result, .Wait(), sync I/O) on pool threads")]
    public static partial void ThreadPoolLag(ILogger logger, long lagMs, long lagWarningMs, int threadCount, int minThreads, long pendingWorkItems, long completedWorkItems, int suppressed);
}
