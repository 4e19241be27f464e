using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Health;

/// <summary>
/// Logs readiness when it changes, not per probe: a Warning naming each check that is not healthy and why when the
/// gateway stops being ready, an Information line when it is ready again. A probe every few seconds against a
/// gateway whose datasets have not loaded would otherwise write ASP.NET Core's three-line Error per probe (its
/// health-check service is held at Critical by default for that reason: <see cref="HealthExtensions"/>).
/// </summary>
internal sealed partial class ReadinessLog(ILogger<ReadinessLog> logger)
{
    private readonly Lock _lock = new();
    private HealthStatus _last = HealthStatus.Healthy;

    public void Observe(HealthReport report)
    {
        lock (_lock)
        {
            if (report.Status == _last)
            {
                return;
            }

            _last = report.Status;
        }

        if (report.Status == HealthStatus.Healthy)
        {
            Ready(logger);
            return;
        }

        var failing = string.Join("; ", report.Entries
            .Where(e => e.Value.Status != HealthStatus.Healthy)
            .Select(e => $"{e.Key}: {e.Value.Status} ({e.Value.Description ?? e.Value.Exception?.Message ?? "no description"})"));
        NotReady(logger, report.Status, failing);
    }

    [LoggerMessage(EventId = 401, EventName = "NotReady", Level = LogLevel.Warning, Message = "Readiness is now {Status}: {Checks}")]
    private static partial void NotReady(ILogger logger, HealthStatus status, string checks);

    [LoggerMessage(EventId = 402, EventName = "ReadyAgain", Level = LogLevel.Information, Message = "Readiness is now Healthy")]
    private static partial void Ready(ILogger logger);
}
