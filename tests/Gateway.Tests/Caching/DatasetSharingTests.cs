using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Caching;
using Gateway.Caching.Redis;
using Gateway.Model;
using Gateway.Tests.Aggregation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Tests.Caching.CachedDataHarness;

namespace Gateway.Tests.Caching;

/// <summary>
/// The lease and value logic of datasets shared between instances, over a fake store on fake time. The dataset:
/// every 10 s, no jitter, 2 s timeout; so a copy is due at 9.9 s, fresh for 12 s, a lease lasts 13 s from the last
/// good refresh, a follower looks again after 1 s and takes the lease over once the shared copy is older than 12 s.
/// </summary>
public sealed class DatasetSharingTests
{
    private const string Body = """[{"id":"books"}]""";
    private const string Shared = """[{"id":"shared"}]""";
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    private static (CachedDataHarness Harness, FakeSharedStore Store, Func<int> Calls) Create(string timeout = "2s", string maxStaleness = "100s", JsonObject? aggregate = null)
    {
        var time = new FakeTimeProvider();
        var store = new FakeSharedStore(time);
        var harness = new CachedDataHarness(new JsonObject { ["categories"] = DatasetConfig("10s", jitter: 0, timeout: timeout, maxStaleness: maxStaleness) }, aggregate, store: store, time: time);
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
    public async Task Refresh_HoldsTheLease_GoodRefreshesExtendIt_AFailureKeepsItWithoutExtendingItOrTouchingTheCopy()
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
        Assert.Equal(TimeSpan.FromSeconds(13), store.LeaseLeft("categories"));

        harness.Handler = (_, _) => Task.FromResult(Status(HttpStatusCode.ServiceUnavailable));
        await harness.NextRefreshAsync(dataset);
        Assert.Equal(2, store.Writes);
        Assert.Equal("me", store.LeaseHolder("categories"));
        Assert.True(dataset.LeaseHeld);
        Assert.Equal(TimeSpan.FromSeconds(3), store.LeaseLeft("categories")); // 13 s from the last good refresh, 10 s ago
        Assert.Equal(TimeSpan.FromSeconds(1), harness.DueIn(dataset)); // the back-off, not the follower's look
        Assert.Equal(Body, Encoding.UTF8.GetString(store.Value("categories")!.Body));
    }

    [Fact]
    public async Task Refresh_HolderFailsThreeTimesInARow_GivesTheLeaseUp_ThenAfterEveryFurtherFailure()
    {
        // A 5 s timeout: the lease (16 s from the last good refresh) outlasts the three failures at 10, 11 and 13 s.
        var (harness, store, calls) = Create(timeout: "5s");
        await using var owned = harness;
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);
        var failed = 0;
        harness.Handler = (_, _) =>
        {
            Interlocked.Increment(ref failed);
            return Task.FromResult(Status(HttpStatusCode.NotFound)); // e.g. a deploy whose Path is wrong
        };

        await harness.NextRefreshAsync(dataset);
        await harness.NextRefreshAsync(dataset);
        Assert.Equal(2, dataset.FailuresInRow);
        Assert.Equal("me", store.LeaseHolder("categories"));
        Assert.Equal(0, store.Releases);

        await harness.NextRefreshAsync(dataset);
        Assert.Equal(3, dataset.FailuresInRow);
        Assert.Null(store.LeaseHolder("categories"));
        Assert.False(dataset.LeaseHeld);
        Assert.Contains(harness.SharingLog.Collector.GetSnapshot(), e => e.Id.Name == "DatasetLeaseGivenUp" && e.Level == LogLevel.Warning);

        // Nobody else took it: this instance does, for one more try, and gives it up again at once.
        await harness.NextRefreshAsync(dataset);
        Assert.Equal((1, 4), (calls(), failed));
        Assert.Equal(2, store.Releases);
        Assert.Null(store.LeaseHolder("categories"));

        // Another instance takes it and refreshes: this one takes its copy, and calls nothing.
        store.Lease("categories", "other", TimeSpan.FromSeconds(16));
        store.Put("categories", Shared, age: TimeSpan.Zero, ttl: Long);
        await harness.NextRefreshAsync(dataset);
        Assert.Equal(4, failed);
        Assert.Equal("other", store.LeaseHolder("categories"));
        Assert.Equal((CopyOrigin.Redis, 0), (dataset.Copy!.Origin, dataset.FailuresInRow));
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
    public async Task Refresh_HolderStopsRenewingTheCopy_OncePastItsFreshPeriod_ThisInstanceTakesTheLeaseOver()
    {
        var (harness, store, calls) = Create();
        await using var owned = harness;
        store.Put("categories", Shared, age: TimeSpan.FromSeconds(10), ttl: Long);
        store.Lease("categories", "other", TimeSpan.FromHours(1)); // a holder that extends it, good refresh or not
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);

        var waited = TimeSpan.Zero;
        while (calls() == 0)
        {
            Assert.True(waited < TimeSpan.FromSeconds(20), "the refresh was never taken over");
            waited += await harness.NextRefreshAsync(dataset);
        }

        // Looks at 11, 12 and 13 s of age; the copy is fresh for 12 s.
        Assert.Equal(TimeSpan.FromSeconds(3), waited);
        Assert.Equal("me", store.LeaseHolder("categories"));
        Assert.Equal(TimeSpan.FromSeconds(13), store.LeaseLeft("categories"));
        Assert.Equal("me", store.Value("categories")!.Writer);
        Assert.Equal(CopyOrigin.Downstream, dataset.Copy!.Origin);
        Assert.Equal(CopyAge.Fresh, dataset.Classify(harness.Time.GetTimestamp(), out _, out _));
        var takenOver = Assert.Single(harness.SharingLog.Collector.GetSnapshot(), e => e.Id.Name == "DatasetLeaseTakenOver");
        Assert.Contains("13000 ms old, past its fresh period of 12000 ms", takenOver.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_NoSharedCopyAndTheLeaseHeldElsewhere_TakenOverOnceNoneCameForTheFreshPeriod()
    {
        var (harness, store, calls) = Create();
        await using var owned = harness;
        store.Lease("categories", "broken", TimeSpan.FromHours(1));
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);
        Assert.Null(dataset.Copy);

        var waited = TimeSpan.Zero;
        while (calls() == 0)
        {
            Assert.True(waited < TimeSpan.FromSeconds(20), "the refresh was never taken over");
            waited += await harness.NextRefreshAsync(dataset);
        }

        Assert.Equal(TimeSpan.FromSeconds(13), waited); // the first look past 12 s of waiting
        Assert.Equal("me", store.LeaseHolder("categories"));
        Assert.Equal(Body, Encoding.UTF8.GetString(dataset.Copy!.Body.Span));
    }

    [Fact]
    public async Task Refresh_HolderLapses_WhileTheCopyIsStillFresh_TheFreeLeaseIsTaken()
    {
        var (harness, store, calls) = Create();
        await using var owned = harness;
        store.Put("categories", Shared, age: TimeSpan.FromSeconds(10), ttl: Long);
        store.Lease("categories", "other", TimeSpan.FromSeconds(1.5));
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);
        Assert.Equal(0, calls());

        await harness.NextRefreshAsync(dataset);
        Assert.Equal(0, calls());
        await harness.NextRefreshAsync(dataset);
        Assert.Equal(1, calls());
        Assert.Equal("me", store.LeaseHolder("categories"));
        Assert.DoesNotContain(harness.SharingLog.Collector.GetSnapshot(), e => e.Id.Name == "DatasetLeaseTakenOver");
    }

    [Fact]
    public async Task Refresh_StrayLeaseWithoutTtl_CountsAsFree_ReplacedByThisInstancesWithATtl()
    {
        var (harness, store, calls) = Create();
        await using var owned = harness;
        store.StrayLease("categories", "stray");
        store.Put("categories", Shared, age: TimeSpan.FromSeconds(10), ttl: Long);
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);

        Assert.Equal(1, calls());
        Assert.Equal("me", store.LeaseHolder("categories"));
        Assert.Equal(TimeSpan.FromSeconds(13), store.LeaseLeft("categories"));
        Assert.True(dataset.LeaseHeld);
        Assert.Equal(CopyAge.Fresh, dataset.Classify(harness.Time.GetTimestamp(), out _, out _));
        var repaired = Assert.Single(harness.SharingLog.Collector.GetSnapshot(), e => e.Id.Name == "DatasetLeaseRepaired");
        Assert.Contains("stray", repaired.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_CopyExpiredWhileFollowingAndNothingFailed_MessageSaysSo_NotThatRefreshesKeepFailing()
    {
        // No MaxStaleness: the copy expires when it stops being fresh (12 s), a look before the takeover.
        var aggregate = new JsonObject { ["Route"] = "/agg", ["Sources"] = new JsonObject { ["cats"] = new JsonObject { ["CachedData"] = "categories" } } };
        var (harness, store, calls) = Create(maxStaleness: "0s", aggregate: aggregate);
        await using var owned = harness;
        store.Put("categories", Shared, age: TimeSpan.FromSeconds(9), ttl: Long);
        store.Lease("categories", "other", TimeSpan.FromHours(1));
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);
        for (var i = 0; i < 3; i++)
        {
            await harness.NextRefreshAsync(dataset); // looks at 10, 11 and 12 s of age: due, not yet overdue
        }

        harness.Time.Advance(TimeSpan.FromMilliseconds(500));
        var expired = harness.Result(await harness.RunAsync().Within(), "cats");
        Assert.Equal(0, calls());
        Assert.Equal(SourceOutcome.StaleExpired, expired.Outcome);
        Assert.DoesNotContain("fail", expired.Message, StringComparison.Ordinal);
        Assert.Contains("another instance holds the refresh lease", expired.Message, StringComparison.Ordinal);

        // The next look takes the refresh over, and the copy is back.
        await harness.NextRefreshAsync(dataset);
        Assert.Equal(1, calls());
        Assert.Equal(SourceOutcome.Ok, harness.Result(await harness.RunAsync().Within(), "cats").Outcome);

        // Once refreshes do fail, the message says that.
        harness.Handler = (_, _) => Task.FromResult(Status(HttpStatusCode.BadGateway));
        await harness.NextRefreshAsync(dataset); // at 10 s of age
        await harness.NextRefreshAsync(dataset); // at 11 s, after the first back-off
        harness.Time.Advance(TimeSpan.FromSeconds(1.5));
        var failing = harness.Result(await harness.RunAsync().Within(), "cats");
        Assert.Equal(SourceOutcome.StaleExpired, failing.Outcome);
        Assert.Contains("the last 2 refreshes failed", failing.Message, StringComparison.Ordinal);
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
        var warnings = harness.SharingLog.Collector.GetSnapshot().Where(e => e.Level == LogLevel.Warning).ToList();
        Assert.All(warnings, w => Assert.Equal("SharedStoreFailed", w.Id.Name));
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
        Assert.DoesNotContain(harness.SharingLog.Collector.GetSnapshot(), e => e.Level >= LogLevel.Warning);

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
        Assert.Contains(harness.SharingLog.Collector.GetSnapshot(), e => e.Id.Name == "SharedCopyInvalid");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Refresh_InvalidSharedCopyThatLooksCurrent_NotCountedAsCurrent_TheLeaseIsTakenOverAndTheRealOutcomeRecorded(bool downstreamAnswers)
    {
        var (harness, store, calls) = Create();
        await using var owned = harness;
        store.Put("categories", "<html>", age: TimeSpan.FromSeconds(1), ttl: Long); // not due: it would stand for 9 s more
        store.Lease("categories", "other", TimeSpan.FromSeconds(13));
        var failed = 0;
        if (!downstreamAnswers)
        {
            harness.Handler = (_, _) =>
            {
                Interlocked.Increment(ref failed);
                return Task.FromResult(Status(HttpStatusCode.InternalServerError));
            };
        }

        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);

        Assert.Equal(1, calls() + failed);
        var invalid = Assert.Single(harness.SharingLog.Collector.GetSnapshot(), e => e.Id.Name == "SharedCopyInvalid");
        Assert.Contains("not valid JSON", invalid.Message, StringComparison.Ordinal);
        Assert.Contains(harness.SharingLog.Collector.GetSnapshot(), e => e.Id.Name == "DatasetLeaseTakenOver");
        Assert.Equal("me", store.LeaseHolder("categories"));
        if (downstreamAnswers)
        {
            Assert.Equal(SourceOutcome.Ok, dataset.LastRefresh!.Outcome);
            Assert.Equal(CopyAge.Fresh, dataset.Classify(harness.Time.GetTimestamp(), out _, out _));
            Assert.Equal(Body, Encoding.UTF8.GetString(store.Value("categories")!.Body));
        }
        else
        {
            Assert.Equal(SourceOutcome.HttpStatus, dataset.LastRefresh!.Outcome);
            Assert.Equal(CopyAge.Missing, dataset.Classify(harness.Time.GetTimestamp(), out _, out _));
            Assert.Equal(1, dataset.FailuresInRow);
        }
    }

    [Fact]
    public async Task Refresh_ValueFailsTheStoresChecks_CountsAsNoCopy_TheHolderRefreshesAndReplacesIt()
    {
        var (harness, store, calls) = Create();
        await using var owned = harness;
        store.Corrupt("categories", "it has no time to live in Redis");
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);

        Assert.Equal(1, calls());
        Assert.Contains(harness.SharingLog.Collector.GetSnapshot(), e => e.Id.Name == "SharedCopyInvalid" && e.Message.Contains("no time to live", StringComparison.Ordinal));
        Assert.Equal("me", store.Value("categories")!.Writer);
        Assert.Equal(CopyOrigin.Downstream, dataset.Copy!.Origin);
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

    public static TheoryData<string, byte[]> Forged()
    {
        static byte[] Encode(int status = 200, long ttlMs = 60_000, string writer = "w", string body = Body)
        {
            var bytes = SharedValueCodec.Encode(new SharedValue(Encoding.UTF8.GetBytes(body), status, 1, writer), TimeSpan.FromSeconds(1));
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(13), ttlMs);
            return bytes;
        }

        var writerPastTheEnd = Encode();
        writerPastTheEnd[21] = 200;
        var badUtf8 = Encode(writer: "ab");
        badUtf8[22] = 0xC3;
        return new()
        {
            { "shorter than the 22-byte header", Encode()[..21] },
            { "cut short", writerPastTheEnd },
            { "cut short", Encode(body: "") },
            { "no writer", Encode(writer: "") },
            { "not valid UTF-8", badUtf8 },
            { "status 599", Encode(status: 599) },
            { "status 0", Encode(status: 0) },
            { "time to live of 0 ms", Encode(ttlMs: 0) },
            { "time to live of -5 ms", Encode(ttlMs: -5) },
            { "time to live of 9223372036854775807 ms", Encode(ttlMs: long.MaxValue) },
        };
    }

    [Theory]
    [MemberData(nameof(Forged))]
    public void Codec_ForgedValue_RefusedSayingWhy(string problem, byte[] bytes)
    {
        Assert.False(SharedValueCodec.TryDecode(bytes, out _, out _, out var why));
        Assert.Contains(problem, why, StringComparison.Ordinal);
    }

    [Fact]
    public void Store_ValueWithoutTtlOrWithALongerOneThanWritten_Refused_OtherwiseItsAgeIsWhatTheTtlSays()
    {
        var bytes = SharedValueCodec.Encode(new SharedValue(Encoding.UTF8.GetBytes(Body), 200, 1, "w"), TimeSpan.FromSeconds(60));

        Assert.Contains("no time to live", RedisDatasetStore.Check(bytes, null, out _, out _), StringComparison.Ordinal);
        Assert.Contains("longer than the 60000 ms", RedisDatasetStore.Check(bytes, TimeSpan.FromSeconds(61), out _, out _), StringComparison.Ordinal);
        Assert.Null(RedisDatasetStore.Check(bytes, TimeSpan.FromSeconds(45), out var value, out var age));
        Assert.Equal(TimeSpan.FromSeconds(15), age);
        Assert.Equal("w", value.Writer);
    }

    [Fact]
    public void Codec_LongWriter_CutOnACharacterBoundary_StillDecodes()
    {
        var writer = new string('é', 200); // 400 bytes of 2-byte characters
        var bytes = SharedValueCodec.Encode(new SharedValue(Encoding.UTF8.GetBytes(Body), 200, 1, writer), TimeSpan.FromSeconds(1));

        Assert.True(SharedValueCodec.TryDecode(bytes, out var back, out _));
        Assert.Equal(new string('é', 127), back.Writer);
    }
}
