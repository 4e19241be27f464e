using System.Net;
using System.Text.Json.Nodes;
using Gateway.Caching;
using Gateway.Model;
using Gateway.Tests.Aggregation;
using static Gateway.Tests.Caching.CachedDataHarness;

namespace Gateway.Tests.Caching;

public sealed class RefreshSchedulerTests
{
    private static TaskCompletionSource Signal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Fact]
    public async Task Refresh_Succeeds_NextOneDueWithinTheIntervalPlusOrMinusJitter()
    {
        await using var harness = new CachedDataHarness(new JsonObject { ["categories"] = DatasetConfig("10s", jitter: 0.2) });
        var calls = 0;
        harness.Handler = (_, _) =>
        {
            Interlocked.Increment(ref calls);
            return Task.FromResult(FanOutHarness.Json("[]"));
        };
        var dataset = harness.Dataset("categories");

        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);
        var delays = new List<TimeSpan>();
        for (var i = 0; i < 30; i++)
        {
            delays.Add(await harness.NextRefreshAsync(dataset));
        }

        Assert.Equal(31, calls);
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(12)));
        Assert.True(delays.Distinct().Count() > 1, "the delays are jittered");
    }

    [Fact]
    public async Task Refresh_JitterDrawsAtTheExtremes_DelaysAtTheBoundsExactly()
    {
        await using var harness = new CachedDataHarness(new JsonObject { ["categories"] = DatasetConfig("10s", jitter: 0.1) });
        var dataset = harness.Dataset("categories");

        harness.Draw = () => 0;
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);
        Assert.Equal(TimeSpan.FromSeconds(9), harness.DueIn(dataset));

        harness.Draw = () => 1;
        await harness.NextRefreshAsync(dataset);
        Assert.Equal(TimeSpan.FromSeconds(11), harness.DueIn(dataset));
    }

    [Fact]
    public async Task Refresh_KeepsFailing_RetriesWithDoublingBackOffCappedAtTheIntervalThenBackToTheInterval()
    {
        await using var harness = new CachedDataHarness(new JsonObject { ["categories"] = DatasetConfig("10s", jitter: 0) });
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);
        var loaded = dataset.Copy;
        Assert.NotNull(loaded);

        harness.Handler = (_, _) => Task.FromResult(Status(HttpStatusCode.ServiceUnavailable));
        Assert.Equal(TimeSpan.FromSeconds(10), await harness.NextRefreshAsync(dataset));
        var retries = new List<TimeSpan>();
        for (var i = 0; i < 6; i++)
        {
            retries.Add(await harness.NextRefreshAsync(dataset));
        }

        // The first failure came after 10 s; then 1, 2, 4, 8 s and the cap: the interval.
        Assert.Equal([1, 2, 4, 8, 10, 10], retries.Select(r => r.TotalSeconds));
        Assert.Equal(7, dataset.FailuresInRow);
        Assert.Equal(SourceOutcome.HttpStatus, dataset.LastRefresh!.Outcome);
        Assert.Same(loaded, dataset.Copy);

        harness.Handler = (_, _) => Task.FromResult(FanOutHarness.Json("""[{"id":"new"}]"""));
        await harness.NextRefreshAsync(dataset);
        Assert.Equal(0, dataset.FailuresInRow);
        Assert.NotSame(loaded, dataset.Copy);
        Assert.Equal(TimeSpan.FromSeconds(10), harness.DueIn(dataset));
    }

    [Fact]
    public async Task RetryDelay_LongInterval_CappedAtOneMinute()
    {
        await using var harness = new CachedDataHarness(new JsonObject { ["d"] = DatasetConfig("1h", jitter: 0) });
        var definition = harness.Dataset("d").Definition;

        Assert.Equal(TimeSpan.FromSeconds(32), definition.RetryDelay(6));
        Assert.Equal(TimeSpan.FromMinutes(1), definition.RetryDelay(7));
        Assert.Equal(TimeSpan.FromMinutes(1), definition.RetryDelay(1000));
    }

    [Fact]
    public async Task RefreshNow_WhileARefreshRuns_IsADuplicateAndExactlyOneCallIsInFlight()
    {
        await using var harness = new CachedDataHarness(new JsonObject { ["categories"] = DatasetConfig("1s", jitter: 0, timeout: "1m") }, workers: 4);
        var inFlight = 0;
        var maxInFlight = 0;
        var calls = 0;
        var arrived = Signal();
        var release = Signal();
        harness.Handler = async (_, ct) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref maxInFlight, now);
            Interlocked.Increment(ref calls);
            arrived.TrySetResult();
            await release.Task.WaitAsync(ct);
            Interlocked.Decrement(ref inFlight);
            return FanOutHarness.Json("{}");
        };
        var dataset = harness.Dataset("categories");

        await harness.StartAsync();
        await arrived.Task.Within();
        // Well past the interval, within the refresh's timeout.
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(Enqueued.AlreadyPending, harness.Scheduler.RefreshNow(dataset));
            harness.Time.Advance(TimeSpan.FromSeconds(5));
        }

        Assert.Equal(1, Volatile.Read(ref calls));
        release.SetResult();
        await harness.RefreshedAsync(dataset);
        Assert.Equal(1, calls);
        Assert.Equal(1, maxInFlight);

        // Once it ended a new one may go.
        Assert.Equal(Enqueued.Queued, harness.Scheduler.RefreshNow(dataset));
        await harness.RefreshedAsync(dataset);
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task Scheduler_ChannelFull_DropsTheJobAndRearmsWithoutBlocking()
    {
        var datasets = new JsonObject
        {
            ["a"] = DatasetConfig("10s", jitter: 0, path: "/a"),
            ["b"] = DatasetConfig("10s", jitter: 0, path: "/b"),
            ["c"] = DatasetConfig("10s", jitter: 0, path: "/c"),
        };
        await using var harness = new CachedDataHarness(datasets, queueCapacity: 1);

        // No workers: nothing drains the channel, which holds one job.
        var start = harness.StartAsync(workers: false);
        Assert.True(start.IsCompletedSuccessfully, "starting the scheduler must not wait on the channel");
        await start;

        var all = new[] { harness.Dataset("a"), harness.Dataset("b"), harness.Dataset("c") };
        Assert.Single(all, d => d.IsPending);
        var dropped = all.Where(d => !d.IsPending).ToArray();
        Assert.All(dropped, d => Assert.Equal(TimeSpan.FromSeconds(1), harness.DueIn(d)));

        // Due again, still full: dropped again and re-armed, the timer callback returned (Advance did).
        harness.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.All(dropped, d => Assert.False(d.IsPending));
        Assert.All(dropped, d => Assert.Equal(TimeSpan.FromSeconds(1), harness.DueIn(d)));
        Assert.Equal(Enqueued.QueueFull, harness.Scheduler.RefreshNow(dropped[0]));
    }

    [Fact]
    public async Task Workers_StopWhileRefreshInFlight_CancelsItAndKeepsTheCopy()
    {
        await using var harness = new CachedDataHarness(new JsonObject { ["categories"] = DatasetConfig("10s", jitter: 0, timeout: "1m") });
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);
        var loaded = dataset.Copy;

        var arrived = Signal();
        var cancelled = Signal();
        harness.Handler = async (_, ct) =>
        {
            arrived.SetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                cancelled.TrySetResult();
            }

            return FanOutHarness.Json("{}");
        };
        harness.Time.Advance(TimeSpan.FromSeconds(10));
        await arrived.Task.Within();

        await harness.StopWorkersAsync().Within();
        await cancelled.Task.Within();
        Assert.Equal(SourceOutcome.Cancelled, dataset.LastRefresh!.Outcome);
        Assert.Same(loaded, dataset.Copy);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
