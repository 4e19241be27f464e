using System.Diagnostics;
using Gateway.Logging;
using Gateway.Model;

namespace Gateway.Aggregation;

/// <summary>
/// Logs source failures so that people can act on them, and not so many that the log drowns: a required
/// source at Warning, an optional one at Information, at most one line per source (aggregate and source name)
/// per interval; the line that gets through says how many failures of that source were not logged before it.
/// A source cancelled because the client left, fail-fast decided or the host is stopping did not fail by itself:
/// Debug, not throttled.
/// </summary>
internal sealed class SourceFailureLog(ILogger logger, TimeProvider timeProvider, TimeSpan interval)
{
    private readonly KeyedLogThrottle<(string Aggregate, string Source)> _throttles = new(timeProvider, interval);

    public void Report(string aggregate, SourceDefinition source, SourceResult result)
    {
        var level = result.Outcome == SourceOutcome.Cancelled ? LogLevel.Debug : source.Required ? LogLevel.Warning : LogLevel.Information;
        if (!logger.IsEnabled(level))
        {
            return;
        }

        // A cancellation (Debug, opt-in) neither waits for the throttle nor uses it up: it would hold back the next
        // real failure of that source.
        var suppressed = 0;
        if (level == LogLevel.Debug || _throttles.TryEnter((aggregate, source.Name), out suppressed))
        {
            var traceId = Activity.Current is { } activity ? activity.TraceId.ToHexString() : "";
            Log.SourceFailed(logger, level, aggregate, source.Name, source.Required, result.Outcome.ToName(), result.Message ?? "", traceId, suppressed);
        }
    }
}
