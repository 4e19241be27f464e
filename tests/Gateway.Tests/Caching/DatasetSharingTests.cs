using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Caching;
using Gateway.Caching.Redis;
using Gateway.Tests.Aggregation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Tests.Caching.CachedDataHarness;

namespace Gateway.Tests.Caching;

/// <summary>
/// The lease and value logic of datasets shared between instances, over a fake store on fake time. The dataset:
/// every 10 s, no jitter, 2 s timeout; so a copy is due at 9.9 s, a lease lasts 13 s, a follower looks again after 1 s.
/// </summary>
public sealed class DatasetSharingTests
{
    private const string Body = """[{"id":"books"}]""";
    private const string Shared = """[{"id":"shared"}]""";
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    private static (CachedDataHarness Harness, FakeSharedStore Store, Func<int> Calls) Create()
    {
        var time = new FakeTimeProvider();
        var store = new FakeSharedStore(time);
        var harness = new CachedDataHarness(new JsonObject { ["categories"] = DatasetConfig("10s", jitter: 0, timeout: "2s", maxStaleness: "100s") }, store: store, time: time);
        var calls = 0;
        harness.Handler = (_, _) =>
        {
            Interlocked.Increment(ref calls);
            return Task.FromResult(FanOutHarness.Json(Body));
        };
        return (harness, store, () => Volatile.Read(ref calls));
    }

    [Fact]
    public async Task Refresh_SharedCopyNotDueYet_TakenFromTheStoreNotTheDownstream_NextLookWhenItWillBeDue()
    {
        var (harness, store, calls) = Create();
        await using var owned = harness;
        store.Put("categories", Shared, age: TimeSpan.FromSeconds(2), ttl: Long);
        store.Lease("categories", "other", TimeSpan.FromSeconds(13));
        var dataset = harness.Dataset("categories");

        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);

        Assert.Equal(0, calls());
        Assert.Equal(Shared, Encoding.UTF8.GetString(dataset.Copy!.Body.Span));
        Assert.Equal(CopyOrigin.Redis, dataset.Copy.Origin);
        Assert.Equal("other", dataset.Copy.Writer);
        Assert.Equal(CopyAge.Fresh, dataset.Classify(harness.Time.GetTimestamp(), out _, out var ageMs));
        Assert.Equal(2000, ageMs);
        Assert.Equal(TimeSpan.FromSeconds(8), harness.DueIn(dataset));
        Assert.False(dataset.LeaseHeld);
    }

    [Fact]
    public async Task Refresh_NoSharedCopyAndLeaseFree_TakesTheLeaseCallsTheDownstreamAndWritesTheCopy()
    {
        var (harness, store, calls) = Create();
        await using var owned = harness;
        var dataset = harness.Dataset("categories");

        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);

        Assert.Equal(1, calls());
        Assert.Equal("me", store.LeaseHolder("categories"));
        Assert.Equal(TimeSpan.FromSeconds(13), store.LeaseLeft("categories"));
        var written = store.Value("categories")!;
        Assert.Equal(Body, Encoding.UTF8.GetString(written.Body));
        Assert.Equal("me", written.Writer);
        Assert.Equal(dataset.Definition.ServedFor, store.LastWriteTtl);
        Assert.Equal(CopyOrigin.Downstream, dataset.Copy!.Origin);
        Assert.True(dataset.LeaseHeld);
        Assert.Equal(TimeSpan.FromSeconds(10), harness.DueIn(dataset));
    }

    [Fact]
    public async Task Refresh_HoldsTheLease_KeepsItAcrossRefreshesAndAFailureWithoutTouchingTheCopy()
    {
        var (harness, store, calls) = Create();
        await using var owned = harness;
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);

        await harness.NextRefreshAsync(dataset);
        Assert.Equal(2, calls());
        Assert.Equal(2, store.Writes);
        Assert.Equal("me", store.LeaseHolder("categories"));

        harness.Handler = (_, _) => Task.FromResult(Status(HttpStatusCode.ServiceUnavailable));
        await harness.NextRefreshAsync(dataset);
        Assert.Equal(2, store.Writes);
        Assert.Equal("me", store.LeaseHolder("categories"));
        Assert.Equal(TimeSpan.FromSeconds(13), store.LeaseLeft("categories"));
        Assert.Equal(TimeSpan.FromSeconds(1), harness.DueIn(dataset)); // the back-off, not the follower's look
        Assert.Equal(Body, Encoding.UTF8.GetString(store.Value("categories")!.Body));
    }

    [Fact]
    public async Task Refresh_CopyDueAndLeaseHeldElsewhere_NoCall_LooksAgainAfterTheFollowDelay()
    {
        var (harness, store, calls) = Create();
        await using var owned = harness;
        store.Put("categories", Shared, age: TimeSpan.FromSeconds(10), ttl: Long);
        store.Lease("categories", "other", TimeSpan.FromSeconds(13));
        var dataset = harness.Dataset("categories");

        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);

        Assert.Equal(0, calls());
        Assert.Equal(Shared, Encoding.UTF8.GetString(dataset.Copy!.Body.Span)); // better than nothing while the holder refreshes
        Assert.Equal(TimeSpan.FromSeconds(1), harness.DueIn(dataset));
        Assert.Equal(0, dataset.FailuresInRow);

        // The holder writes a new copy: taken at the next look, and the one after is due when that copy will be.
        store.Put("categories", """[{"id":"newer"}]""", age: TimeSpan.Zero, ttl: Long);
        await harness.NextRefreshAsync(dataset);
        Assert.Equal(0, calls());
        Assert.Equal("""[{"id":"newer"}]""", Encoding.UTF8.GetString(dataset.Copy!.Body.Span));
        Assert.Equal(TimeSpan.FromSeconds(9), harness.DueIn(dataset)); // written 1 s before this look
    }

    [Fact]
    public async Task Refresh_LeaseHolderGoesSilent_ItsLeaseLapses_ThisInstanceTakesOver()
    {
        var (harness, store, calls) = Create();
        await using var owned = harness;
        store.Put("categories", Shared, age: TimeSpan.FromSeconds(10), ttl: Long);
        store.Lease("categories", "other", TimeSpan.FromSeconds(13));
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);

        var waited = TimeSpan.Zero;
        while (calls() == 0)
        {
            Assert.True(waited < TimeSpan.FromSeconds(20), "the lease never lapsed");
            waited += await harness.NextRefreshAsync(dataset);
        }

        Assert.InRange(waited, TimeSpan.FromSeconds(13), TimeSpan.FromSeconds(14));
        Assert.Equal("me", store.LeaseHolder("categories"));
        Assert.Equal("me", store.Value("categories")!.Writer);
        Assert.Equal(CopyOrigin.Downstream, dataset.Copy!.Origin);
    }

    [Fact]
    public async Task RefreshNow_SharedCopyCurrentAndLeaseHeldElsewhere_StillCallsTheDownstreamAndSharesTheCopy()
    {
        var (harness, store, calls) = Create();
        await using var owned = harness;
        store.Put("categories", Shared, age: TimeSpan.FromSeconds(1), ttl: Long);
        store.Lease("categories", "other", TimeSpan.FromSeconds(13));
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);
        Assert.Equal(0, calls());

        Assert.Equal(Enqueued.Queued, harness.Scheduler.RefreshNow(dataset));
        await harness.RefreshedAsync(dataset);

        Assert.Equal(1, calls());
        Assert.Equal("me", store.Value("categories")!.Writer);
        Assert.Equal("other", store.LeaseHolder("categories"));
    }

    [Fact]
    public async Task Refresh_StoreFails_RefreshesFromTheDownstreamAlone_OneWarningPerHalfMinute()
    {
        var (harness, store, calls) = Create();
        await using var owned = harness;
        store.Failing = true;
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);
        for (var i = 0; i < 5; i++)
        {
            await harness.NextRefreshAsync(dataset);
        }

        Assert.Equal(6, calls());
        Assert.Equal(CopyOrigin.Downstream, dataset.Copy!.Origin);
        Assert.False(dataset.LeaseHeld);
        var warnings = harness.SharingLog.Entries.Where(e => e.Level == LogLevel.Warning).ToList();
        Assert.All(warnings, w => Assert.Equal("SharedStoreFailed", w.EventName));
        Assert.Equal(2, warnings.Count); // at 0 s and 30 s; the 10 s and 20 s ones counted in the second
        Assert.Contains("2 more", warnings[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_StoreKnownUnreachable_NotAskedAtAll()
    {
        var (harness, store, calls) = Create();
        await using var owned = harness;
        store.IsAvailable = false;
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);
        await harness.NextRefreshAsync(dataset);

        Assert.Equal(2, calls());
        Assert.Equal(0, store.Operations);
        Assert.DoesNotContain(harness.SharingLog.Entries, e => e.Level >= LogLevel.Warning);

        // Back: shared again at the next refresh.
        store.IsAvailable = true;
        await harness.NextRefreshAsync(dataset);
        Assert.Equal("me", store.LeaseHolder("categories"));
        Assert.NotNull(store.Value("categories"));
    }

    [Fact]
    public async Task Refresh_SharedCopyIsNotJson_IgnoredAndTheDownstreamCalled()
    {
        var (harness, store, calls) = Create();
        await using var owned = harness;
        store.Put("categories", "<html>", age: TimeSpan.FromSeconds(10), ttl: Long);
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);

        Assert.Equal(1, calls());
        Assert.Equal(Body, Encoding.UTF8.GetString(dataset.Copy!.Body.Span));
        Assert.Contains(harness.SharingLog.Entries, e => e.EventName == "SharedCopyInvalid");
    }

    [Fact]
    public async Task Stop_HoldsTheLease_GivesItUp()
    {
        var (harness, store, _) = Create();
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);
        Assert.Equal("me", store.LeaseHolder("categories"));

        await harness.StopWorkersAsync();
        Assert.Null(store.LeaseHolder("categories"));
        await harness.DisposeAsync();
    }

    [Fact]
    public void Codec_RoundTrip_KeepsEveryField_AndRefusesWhatItDidNotWrite()
    {
        var value = new SharedValue(Encoding.UTF8.GetBytes(Body), 203, 1_700_000_000_123, "host/42/abcd");
        var bytes = SharedValueCodec.Encode(value, TimeSpan.FromSeconds(112));

        Assert.True(SharedValueCodec.TryDecode(bytes, out var back, out var ttl));
        Assert.Equal(Body, Encoding.UTF8.GetString(back.Body));
        Assert.Equal((203, 1_700_000_000_123L, "host/42/abcd"), (back.Status, back.LoadedAtUnixMs, back.Writer));
        Assert.Equal(TimeSpan.FromSeconds(112), ttl);
        Assert.False(SharedValueCodec.TryDecode(Encoding.UTF8.GetBytes(Body), out _, out _));
        Assert.False(SharedValueCodec.TryDecode(bytes[..10], out _, out _));
        bytes[0] = 2;
        Assert.False(SharedValueCodec.TryDecode(bytes, out _, out _));
    }
}
