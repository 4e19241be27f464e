namespace Gateway.Shutdown;

internal static partial class Log
{
    [LoggerMessage(EventId = 901, EventName = "DrainStarted", Level = LogLevel.Information,
        Message = "Shutting down: no new connections, readiness unhealthy; {InFlight} aggregate and route requests in flight get up to {DrainTimeoutMs} ms (Gateway:Shutdown:DrainTimeout)")]
    public static partial void DrainStarted(ILogger logger, int inFlight, long drainTimeoutMs);

    [LoggerMessage(EventId = 902, EventName = "Drained", Level = LogLevel.Information,
        Message = "Shutting down: every request in flight finished, {ElapsedMs} ms after the signal")]
    public static partial void Drained(ILogger logger, long elapsedMs);

    [LoggerMessage(EventId = 903, EventName = "DrainExpired", Level = LogLevel.Warning,
        Message = "Shutting down: Gateway:Shutdown:DrainTimeout ({DrainTimeoutMs} ms) passed with {InFlight} requests in flight; they are cancelled (answered 503 'cancelled' where nothing was sent yet)")]
    public static partial void DrainExpired(ILogger logger, long drainTimeoutMs, int inFlight);
}
