using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Gateway.IntegrationTests.Diagnostics;

/// <summary>The thread pool is the whole process's: these tests block it on purpose, so they run alone.</summary>
[CollectionDefinition(nameof(BlocksThreadPool), DisableParallelization = true)]
public sealed class BlocksThreadPool;

/// <summary>The lag monitor of the real gateway sees a thread pool blocked on purpose: a Warning with the counts, and the metric.</summary>
[Collection(nameof(BlocksThreadPool))]
public sealed class ThreadPoolLagTests
{
    [Fact]
    public async Task Monitor_PoolBlockedForASecond_LogsAWarningWithTheCountsAndRecordsTheLag()
    {
        var measured = new List<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Gateway" && instrument.Name == "gateway.threadpool.lag")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            lock (measured)
            {
                measured.Add(value);
            }
        });
        listener.Start();
        var config = new GatewayConfig()
            .Cluster("users", new Uri($"http://127.0.0.1:{Ports.Closed()}/"))
            .Aggregate("agg", "/agg/{id}", a => a.Source("profile", "users", "/users/{id}"));
        config.Gateway["Diagnostics"] = new System.Text.Json.Nodes.JsonObject { ["LagWarning"] = "200ms" };
        await using var gateway = await TestGateway.StartAsync(config);

        // The monitor is running: it measures every 100 ms.
        await Poll.UntilAsync(() => { lock (measured) { return measured.Count >= 3; } }, "three lag measurements");

        // More blocking work items than the pool has threads: the probe waits behind them.
        var blockers = ThreadPool.ThreadCount + (2 * Environment.ProcessorCount) + 4;
        var blocked = Stopwatch.StartNew();
        for (var i = 0; i < blockers; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem<object?>(static _ => Thread.Sleep(1000), null, preferLocal: false);
        }

        var warning = await Poll.UntilAsync(
            () => Task.FromResult(gateway.Log.FirstOrDefault(e => e.EventName == "ThreadPoolLag")),
            e => e is not null,
            "the ThreadPoolLag warning",
            TimeSpan.FromSeconds(60));

        Assert.Equal(LogLevel.Warning, warning!.Level);
        Assert.True(long.Parse(warning.Fields["LagMs"]!, System.Globalization.CultureInfo.InvariantCulture) > 200, warning.ToString());
        Assert.True(int.Parse(warning.Fields["ThreadCount"]!, System.Globalization.CultureInfo.InvariantCulture) >= 1, warning.ToString());
        Assert.True(warning.Fields.ContainsKey("PendingWorkItems"), warning.ToString());
        Assert.True(long.Parse(warning.Fields["CompletedWorkItems"]!, System.Globalization.CultureInfo.InvariantCulture) > 0, warning.ToString());
        lock (measured)
        {
            Assert.Contains(measured, lag => lag > 200);
        }

        // Throttled: one warning, however many probes were late while the pool drained.
        await Poll.UntilAsync(() => blocked.Elapsed > TimeSpan.FromSeconds(3), "the blockers to drain", TimeSpan.FromSeconds(10));
        Assert.Single(gateway.Log, e => e.EventName == "ThreadPoolLag");
    }
}
