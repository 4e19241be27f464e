using System.Diagnostics.Metrics;
using Gateway.Diagnostics;
using Gateway.Telemetry;
using Gateway.Tests.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Diagnostics;

public sealed class ThreadPoolLagMonitorTests : IDisposable
{
    private static readonly TimeSpan LagWarning = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogger<ThreadPoolLagMonitor> _logger = new();
    private readonly GatewayMetrics _metrics = TestMetrics.Create();
    private readonly MeterListener _listener = new();
    private readonly List<double> _measured = [];

    public ThreadPoolLagMonitorTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, _metrics.Meter) && instrument.Name == ThreadPoolLagMonitor.InstrumentName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            lock (_measured)
            {
                _measured.Add(value);
            }
        });
        _listener.Start();
    }

    private double[] Measured
    {
        get
        {
            lock (_measured)
            {
                return [.. _measured];
            }
        }
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public void Ran_ProbeStartedLaterThanLagWarningAfterItWasDue_LogsAWarningWithThePoolsCounts()
    {
        using var monitor = Monitor();
        var dueAt = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMilliseconds(250));

        monitor.Ran(dueAt);

        var line = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Equal("ThreadPoolLag", line.Id.Name);
        Assert.Equal("250", line.GetStructuredStateValue("LagMs"));
        Assert.Equal("100", line.GetStructuredStateValue("LagWarningMs"));
        Assert.True(int.Parse(line.GetStructuredStateValue("ThreadCount")!, System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.True(int.Parse(line.GetStructuredStateValue("MinThreads")!, System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.True(long.Parse(line.GetStructuredStateValue("PendingWorkItems")!, System.Globalization.CultureInfo.InvariantCulture) >= 0);
        Assert.True(long.Parse(line.GetStructuredStateValue("CompletedWorkItems")!, System.Globalization.CultureInfo.InvariantCulture) >= 1);
    }

    [Fact]
    public void Ran_ProbeStartedWithinLagWarningAfterItWasDue_RecordsTheLagWithoutAWarning()
    {
        using var monitor = Monitor();
        var dueAt = _time.GetTimestamp();
        _time.Advance(LagWarning);

        monitor.Ran(dueAt);

        Assert.Empty(_logger.Collector.GetSnapshot());
        Assert.Contains(100.0, Measured);
    }

    [Fact]
    public void Ran_EveryProbeLateForLonger_OneWarningPerIntervalTheNextSayingHowManyWereHeldBack()
    {
        using var monitor = Monitor();

        for (var i = 0; i < 50; i++)
        {
            var dueAt = _time.GetTimestamp();
            _time.Advance(TimeSpan.FromMilliseconds(150));
            monitor.Ran(dueAt);
        }

        // 50 probes of 150 ms: 7.5 s, within one interval.
        Assert.Single(_logger.Collector.GetSnapshot());
        _time.Advance(Interval);
        var last = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMilliseconds(150));
        monitor.Ran(last);

        Assert.Equal(["0", "49"], _logger.Collector.GetSnapshot().Select(l => l.GetStructuredStateValue("Suppressed")));
        Assert.Equal(51, Measured.Count(m => m == 150.0));
    }

    [Fact]
    public async Task Start_TimeProviderTicks_QueuesProbesThatRecordTheLagUntilStopped()
    {
        using var monitor = Monitor();
        await monitor.StartAsync(CancellationToken.None);
        try
        {
            Assert.Empty(Measured);
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (Measured.Length < 3)
            {
                // The monitor's timer (on the fake clock) queues one probe on the real pool; once it has run, the next is armed.
                _time.Advance(ThreadPoolLagMonitor.ProbeInterval);
                await Task.Delay(50, limit.Token);
            }

            // Lag is measured on the fake clock: a probe that ran before the next Advance reports 0 ms.
            Assert.Contains(0.0, Measured);
        }
        finally
        {
            await monitor.StopAsync(CancellationToken.None);
        }

        // Stopped: once a probe still in flight has run, no timer is left to queue another.
        await Task.Delay(100);
        var count = Measured.Length;
        _time.Advance(TimeSpan.FromSeconds(1));
        await Task.Delay(100);
        Assert.Equal(count, Measured.Length);
    }

    private ThreadPoolLagMonitor Monitor() => new(_time, _logger, _metrics, LagWarning, Interval);
}
