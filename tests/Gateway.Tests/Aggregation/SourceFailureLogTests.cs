using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Aggregation;
using Gateway.Model;
using Gateway.Tests.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Tests.Aggregation.FanOutHarness;

namespace Gateway.Tests.Aggregation;

public sealed class SourceFailureLogTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogger<FanOutExecutor> _logger = new();
    private readonly AggregateDefinition _aggregate = Compile();

    private SourceDefinition Required => _aggregate.Sources.Single(s => s.Name == "profile");

    private SourceDefinition Optional => _aggregate.Sources.Single(s => s.Name == "orders");

    private static SourceResult Unavailable => SourceResult.Failed(SourceOutcome.Unavailable, 3, "the users service is unavailable");

    [Fact]
    public void Report_RequiredSourceFails_LogsAWarningWithAggregateSourceKindAndTraceId()
    {
        using var activity = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();

        new SourceFailureLog(_logger, _time, Interval).Report("dash", Required, Unavailable);

        var line = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Equal("SourceFailed", line.Id.Name);
        Assert.Equal("dash", line.GetStructuredStateValue("Aggregate"));
        Assert.Equal("profile", line.GetStructuredStateValue("Source"));
        Assert.Equal("True", line.GetStructuredStateValue("Required"));
        Assert.Equal("unavailable", line.GetStructuredStateValue("Kind"));
        Assert.Equal("the users service is unavailable", line.GetStructuredStateValue("Reason"));
        Assert.Equal(activity.TraceId.ToHexString(), line.GetStructuredStateValue("TraceId"));
        Assert.Equal("0", line.GetStructuredStateValue("Suppressed"));
    }

    [Fact]
    public void Report_OptionalSourceFails_LogsInformation()
    {
        new SourceFailureLog(_logger, _time, Interval).Report("dash", Optional, SourceResult.Failed(SourceOutcome.Timeout, 500, "timed out"));

        var line = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Equal("orders", line.GetStructuredStateValue("Source"));
        Assert.Equal("False", line.GetStructuredStateValue("Required"));
        Assert.Equal("timeout", line.GetStructuredStateValue("Kind"));
    }

    [Fact]
    public void Report_SourceCancelledByTheClientOrFailFast_LogsDebugOnly()
    {
        new SourceFailureLog(_logger, _time, Interval).Report("dash", Required, SourceResult.Failed(SourceOutcome.Cancelled, 1, "cancelled: the client went away"));

        Assert.Equal(LogLevel.Debug, Assert.Single(_logger.Collector.GetSnapshot()).Level);
    }

    [Fact]
    public void Report_ThousandFailuresAtOnce_WritesOneLineThenTheSuppressedCountAfterTheInterval()
    {
        var log = new SourceFailureLog(_logger, _time, Interval);

        for (var i = 0; i < 1000; i++)
        {
            log.Report("dash", Required, Unavailable);
        }

        Assert.Single(_logger.Collector.GetSnapshot());
        _time.Advance(Interval - TimeSpan.FromMilliseconds(1));
        log.Report("dash", Required, Unavailable);
        Assert.Single(_logger.Collector.GetSnapshot());

        _time.Advance(TimeSpan.FromMilliseconds(1));
        log.Report("dash", Required, Unavailable);

        Assert.Equal(["0", "1000"], _logger.Collector.GetSnapshot().Select(l => l.GetStructuredStateValue("Suppressed")));
        Assert.Contains("1000 earlier failures of this source not logged", _logger.Collector.GetSnapshot()[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_TwoSourcesAndTwoAggregates_AreThrottledEachOnTheirOwn()
    {
        var log = new SourceFailureLog(_logger, _time, Interval);

        for (var i = 0; i < 10; i++)
        {
            log.Report("dash", Required, Unavailable);
            log.Report("dash", Optional, Unavailable);
            log.Report("other", Required, Unavailable);
        }

        Assert.Equal(3, _logger.Collector.GetSnapshot().Count);
    }

    [Fact]
    public void Report_IntervalZero_LogsEveryFailure()
    {
        var log = new SourceFailureLog(_logger, _time, TimeSpan.Zero);

        for (var i = 0; i < 5; i++)
        {
            log.Report("dash", Required, Unavailable);
        }

        Assert.Equal(5, _logger.Collector.GetSnapshot().Count);
    }

    [Fact]
    public void Report_LoggerAboveWarning_TouchesNoThrottle()
    {
        var quiet = new FakeLogger<FanOutExecutor>();
        foreach (var level in (LogLevel[])[LogLevel.Trace, LogLevel.Debug, LogLevel.Information, LogLevel.Warning])
        {
            quiet.ControlLevel(level, enabled: false);
        }

        var log = new SourceFailureLog(quiet, _time, Interval);

        log.Report("dash", Required, Unavailable);

        Assert.Empty(quiet.Collector.GetSnapshot());
    }

    [Fact]
    public void Report_CancellationThenFailureInOneInterval_BothLogged_TheCancellationDoesNotUseUpTheThrottle()
    {
        var log = new SourceFailureLog(_logger, _time, Interval);

        log.Report("dash", Required, SourceResult.Failed(SourceOutcome.Cancelled, 1, "cancelled: the client went away"));
        log.Report("dash", Required, Unavailable);
        log.Report("dash", Required, Unavailable);

        Assert.Collection(
            _logger.Collector.GetSnapshot(),
            l => Assert.Equal(LogLevel.Debug, l.Level),
            l => Assert.Equal(LogLevel.Warning, l.Level));
    }

    [Fact]
    public async Task Execute_RequiredSourceAnswers500_TheExecutorLogsItsFailureAtWarningAndTheCutOffSourceAtDebug()
    {
        var logger = new FakeLogger<FanOutExecutor>();
        using var harness = new FanOutHarness(
            new JsonObject { ["Route"] = "/agg/{id}", ["Sources"] = new JsonObject { ["a"] = Source("users", "/a", required: true), ["b"] = Source("orders", "/b") } },
            (request, _) => Task.FromResult(Json("{}", request.RequestUri!.AbsolutePath == "/a" ? HttpStatusCode.InternalServerError : HttpStatusCode.OK)),
            logger: logger);

        await harness.RunAsync().Within();

        var line = Assert.Single(logger.Collector.GetSnapshot(), l => l.Id.Name == "SourceFailed" && l.Level >= LogLevel.Information);
        Assert.Equal(LogLevel.Warning, line.Level);
        // b was cut off by fail-fast: not a failure of its own.
        Assert.Equal(LogLevel.Debug, Assert.Single(logger.Collector.GetSnapshot(), l => l.GetStructuredStateValue("Source") == "b").Level);
        Assert.Equal("agg", line.GetStructuredStateValue("Aggregate"));
        Assert.Equal("a", line.GetStructuredStateValue("Source"));
        Assert.Equal("http_status", line.GetStructuredStateValue("Kind"));
    }

    private static AggregateDefinition Compile()
    {
        var catalog = AggregationCatalogTests.Load("""
            { "ReverseProxy": { "Clusters": { "users": { "Destinations": { "a": { "Address": "http://users.test/" } } } } },
              "Gateway": { "Aggregates": { "dash": { "Route": "/d/{id}", "Sources": {
                "profile": { "Cluster": "users", "Path": "/users/{id}", "Required": true },
                "orders": { "Cluster": "users", "Path": "/orders/{id}" } } } } } }
            """);
        catalog.ThrowIfInvalid();
        return catalog.Configured.Single();
    }
}
