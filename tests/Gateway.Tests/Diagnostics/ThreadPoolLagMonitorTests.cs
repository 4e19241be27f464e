using System.Diagnostics.Metrics;
using Gateway.Diagnostics;
using Gateway.Tests.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Diagnostics;

public sealed class ThreadPoolLagMonitorTests : IDisposable
{
    private static readonly TimeSpan LagWarning = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly FieldLogger<ThreadPoolLagMonitor> _logger = new();
    private readonly MeterListener _listener = new();
    private readonly List<double> _measured = [];

    public ThreadPoolLagMonitorTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Gateway" && instrument.Name == ThreadPoolLagMonitor.InstrumentName)
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
    public void Ran_ProbeStartedLaterThanLagWarning_LogsAWarningWithThePoolsCounts()
    {
        using var monitor = Monitor();
        var queuedAt = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMilliseconds(250));

        monitor.Ran(queuedAt);

        var line = Assert.Single(_logger.Lines);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Equal("ThreadPoolLag", line.EventId.Name);
        Assert.Equal(250L, line.Fields["LagMs"]);
        Assert.Equal(100L, line.Fields["LagWarningMs"]);
        Assert.True((int)line.Fields["ThreadCount"]! >= 1);
        Assert.True((int)line.Fields["MinThreads"]! >= 1);
        Assert.True((long)line.Fields["PendingWorkItems"]! >= 0);
        Assert.True((long)line.Fields["CompletedWorkItems"]! >= 1);
    }

    [Fact]
    public void Ran_ProbeStartedWithinLagWarning_RecordsTheLagWithoutAWarning()
    {
        using var monitor = Monitor();
        var queuedAt = _time.GetTimestamp();
        _time.Advance(LagWarning);

        monitor.Ran(queuedAt);

        Assert.Empty(_logger.Lines);
        Assert.Contains(100.0, Measured);
    }

    [Fact]
    public void Ran_EveryProbeLateForLonger_OneWarningPerIntervalTheNextSayingHowManyWereHeldBack()
    {
        using var monitor = Monitor();

        for (var i = 0; i < 50; i++)
        {
            var queuedAt = _time.GetTimestamp();
            _time.Advance(TimeSpan.FromMilliseconds(150));
            monitor.Ran(queuedAt);
        }

        // 50 probes of 150 ms: 7.5 s, within one interval.
        Assert.Single(_logger.Lines);
        _time.Advance(Interval);
        var last = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMilliseconds(150));
        monitor.Ran(last);

        Assert.Equal([0, 49], _logger.Lines.Select(l => l.Fields["Suppressed"]));
        Assert.Equal(51, Measured.Count(m => m == 150.0));
    }

    [Fact]
    public async Task Execute_TimeProviderTicks_QueuesProbesThatMeasure()
    {
        using var monitor = Monitor();
        await monitor.StartAsync(CancellationToken.None);
        try
        {
            Assert.Empty(Measured);
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            for (var tick = 1; tick <= 3; tick++)
            {
                // Each tick of the monitor's timer queues one probe on the real pool; fake time stands still
                // until it has run, so the lag it reports is zero.
                _time.Advance(ThreadPoolLagMonitor.ProbeInterval);
                while (Measured.Length < tick)
                {
                    await Task.Delay(5, limit.Token);
                }
            }

            Assert.Equal(3, Measured.Length);
            Assert.All(Measured, m => Assert.Equal(0.0, m));
            Assert.Empty(_logger.Lines);
        }
        finally
        {
            await monitor.StopAsync(CancellationToken.None);
        }
    }

    private ThreadPoolLagMonitor Monitor() => new(_time, _logger, LagWarning, Interval);
}
