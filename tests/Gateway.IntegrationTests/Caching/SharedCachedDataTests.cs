using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.IntegrationTests.Caching;

/// <summary>
/// Two real gateways sharing a dataset through a real <c>redis-server</c> (started by the test on a free port):
/// refreshed once per interval between them, taken over when its lease holder stops, served from memory while
/// Redis is away, shared again when it is back; leadership that heals (a failing holder, a stray lease) and values
/// in Redis that no gateway wrote. Real time with short intervals; every bound is generous.
/// </summary>
public sealed class SharedCachedDataTests
{
    private const string ApiKey = "test-key-0123456789";

    // The documented keys (README, "Several instances"); the dataset is "categories".
    private const string ValueKey = "gateway:cached-data:categories:value";
    private const string LeaseKey = "gateway:cached-data:categories:lease";

    // How long a healthy instance may take to heal what others broke: a few seconds are expected, the rest is for a busy machine.
    private static readonly TimeSpan HealWithin = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3); // 10 intervals

    [Fact]
    public async Task Redis_TwoInstances_RefreshedOncePerIntervalBetweenThem_LeaseHolderStops_TheOtherTakesOver()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var catalog = await CatalogAsync();
        await using var a = await TestGateway.StartAsync(Config(catalog, redis.ConnectionString, "a"));
        await using var b = await TestGateway.StartAsync(Config(catalog, redis.ConnectionString, "b"));
        await LoadedAsync(a);
        await LoadedAsync(b);

        var (fromA, fromB) = await CallsDuringAsync(catalog, Window, a, b);

        // Alone, each would call about 10 times in the window: together about 10, nearly all by one of them.
        Assert.InRange(fromA + fromB, 4, 15);
        Assert.True(Math.Min(fromA, fromB) <= 1, $"one instance refreshes, the other takes the copy from Redis (calls: a {fromA}, b {fromB})");
        var (holder, other, otherFrom) = fromA > fromB ? (a, b, "b") : (b, a, "a");
        Assert.True((await DatasetAsync(holder)).GetProperty("leaseHeld").GetBoolean());
        var follower = await Poll.UntilAsync(() => DatasetAsync(other), d => d.GetProperty("origin").GetString() == "redis", "the follower's copy from Redis");
        Assert.False(follower.GetProperty("leaseHeld").GetBoolean());
        Assert.Equal("fresh", follower.GetProperty("cache").GetString());

        await holder.StopAsync();
        var before = Calls(catalog, otherFrom);
        await CallsDuringAsync(catalog, Window, other);
        var takenOver = Calls(catalog, otherFrom) - before;
        Assert.True(takenOver >= 4, $"the other instance took over the refresh ({takenOver} calls in {Window})");
        var dataset = await DatasetAsync(other);
        Assert.True(dataset.GetProperty("leaseHeld").GetBoolean());
        Assert.Equal("downstream", dataset.GetProperty("origin").GetString());
        Assert.Equal("fresh", dataset.GetProperty("cache").GetString());
    }

    [Fact]
    public async Task Redis_StopsMidTestThenComesBack_EveryRequestSucceedsFast_EachRefreshesAlone_ThenSharingResumes()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var catalog = await CatalogAsync();
        await using var a = await TestGateway.StartAsync(Config(catalog, redis.ConnectionString, "a"));
        await using var b = await TestGateway.StartAsync(Config(catalog, redis.ConnectionString, "b"));
        await LoadedAsync(a);
        await LoadedAsync(b);
        await SharingAsync(catalog, a, b);

        await redis.StopAsync();
        var (fromA, fromB) = await CallsDuringAsync(catalog, Window, a, b);
        Assert.True(fromA >= 4 && fromB >= 4, $"with Redis away each instance refreshes on its own (calls: a {fromA}, b {fromB})");
        Assert.Contains(a.Log.Concat(b.Log), e => e.Level == LogLevel.Warning && e.EventName is "RedisConnectionFailed" or "SharedStoreFailed");

        await redis.RestartAsync();
        await SharingAsync(catalog, a, b, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Redis_NotReachableAtStart_StartsAtOnceAndRefreshesAlone()
    {
        await using var catalog = await CatalogAsync();
        var started = Stopwatch.StartNew();
        await using var gateway = await TestGateway.StartAsync(Config(catalog, $"127.0.0.1:{Ports.Closed()}", "a"));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"start-up does not wait for Redis (took {started.Elapsed})");

        await LoadedAsync(gateway);
        var (fromA, _) = await CallsDuringAsync(catalog, TimeSpan.FromSeconds(1.5), gateway);
        Assert.True(fromA >= 2, $"refreshes on its own ({fromA} calls)");
        var dataset = await DatasetAsync(gateway);
        Assert.False(dataset.GetProperty("leaseHeld").GetBoolean());
        Assert.Equal("downstream", dataset.GetProperty("origin").GetString());
        Assert.Contains(gateway.Log, e => e.Level == LogLevel.Warning && e.EventName is "RedisConnectionFailed" or "SharedStoreFailed");
    }

    [Fact]
    public async Task Redis_LeaseHolderStartedFirstWithABrokenDownstream_TheHealthyInstanceBecomesReadyAndServesFreshData()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var catalog = await CatalogAsync();
        await using var client = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var database = client.GetDatabase();

        // Instance a's egress is broken (its catalog address refuses connections); it starts first and takes the lease.
        var broken = new Uri($"http://127.0.0.1:{Ports.Closed()}/");
        await using var a = await TestGateway.StartAsync(Config(broken, redis.ConnectionString, "a", required: true));
        await Poll.UntilAsync(async () => (await DatasetAsync(a)).GetProperty("leaseHeld").GetBoolean(), held => held, "instance a holding the lease");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await a.GetAsync("/health/ready")).StatusCode);

        var started = Stopwatch.StartNew();
        await using var b = await TestGateway.StartAsync(Config(catalog.BaseAddress, redis.ConnectionString, "b", required: true));
        await Poll.UntilAsync(() => b.GetAsync("/health/ready"), r => r.StatusCode == HttpStatusCode.OK, "instance b ready", HealWithin);
        var healedIn = started.Elapsed;

        var answer = await b.GetAsync("/agg");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("books", answer.Data.GetProperty("cats")[0].GetProperty("id").GetString());
        Assert.True(Calls(catalog, "b") >= 1, "b called its healthy downstream");
        var dataset = await Poll.UntilAsync(() => DatasetAsync(b), d => d.GetProperty("leaseHeld").GetBoolean(), "b holding the lease");
        Assert.Equal("downstream", dataset.GetProperty("origin").GetString());
        Assert.Equal("fresh", dataset.GetProperty("cache").GetString());
        Assert.Equal("ok", dataset.GetProperty("lastOutcome").GetString());

        // And b's copy reaches a through Redis: the broken instance serves good data too.
        await Poll.UntilAsync(() => a.GetAsync("/agg"), r => r.StatusCode == HttpStatusCode.OK, "instance a serving b's copy", HealWithin);
        Assert.Equal("redis", (await DatasetAsync(a)).GetProperty("origin").GetString());
        Assert.NotNull(await database.KeyTimeToLiveAsync(LeaseKey));
        Assert.True(healedIn < HealWithin, $"healed in {healedIn}");
    }

    [Fact]
    public async Task Redis_BrokenHolderThenTwoHealthyInstancesStartedTogether_OneTakesTheRefreshForAll()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var catalog = await CatalogAsync();
        var broken = new Uri($"http://127.0.0.1:{Ports.Closed()}/");
        await using var a = await TestGateway.StartAsync(Config(broken, redis.ConnectionString, "a", required: true));
        await Poll.UntilAsync(async () => (await DatasetAsync(a)).GetProperty("leaseHeld").GetBoolean(), held => held, "instance a holding the lease");

        var starting = new[] { TestGateway.StartAsync(Config(catalog.BaseAddress, redis.ConnectionString, "b", required: true)), TestGateway.StartAsync(Config(catalog.BaseAddress, redis.ConnectionString, "c", required: true)) };
        var started = await Task.WhenAll(starting);
        await using var b = started[0];
        await using var c = started[1];
        foreach (var gateway in (TestGateway[])[b, c, a])
        {
            await Poll.UntilAsync(() => gateway.GetAsync("/agg"), r => r.StatusCode == HttpStatusCode.OK, $"{gateway.BaseAddress} serving", HealWithin);
        }

        // Healed: one healthy instance holds the lease and refreshes for all three; the other takes its copy.
        var holders = await Poll.UntilAsync(
            async () => new[] { await DatasetAsync(a), await DatasetAsync(b), await DatasetAsync(c) },
            d => d.Count(x => x.GetProperty("leaseHeld").GetBoolean()) == 1 && !d[0].GetProperty("leaseHeld").GetBoolean(),
            "one healthy lease holder",
            HealWithin);
        var (b0, c0) = (Calls(catalog, "b"), Calls(catalog, "c"));
        await Task.Delay(Window);
        var (fromB, fromC) = (Calls(catalog, "b") - b0, Calls(catalog, "c") - c0);
        Assert.InRange(fromB + fromC, 4, 15);
        Assert.True(Math.Min(fromB, fromC) <= 1, $"one instance refreshes for all (calls: b {fromB}, c {fromC}; lease held: {string.Join(", ", holders.Select(h => h.GetProperty("leaseHeld").GetBoolean()))})");
        Assert.Equal("redis", (await DatasetAsync(a)).GetProperty("origin").GetString());
    }

    [Fact]
    public async Task Redis_StrayLeaseWithoutTtlBeforeStart_BothInstancesStillLoad_TheLeaseGetsATtl()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var catalog = await CatalogAsync();
        await using var client = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var database = client.GetDatabase();
        Assert.True(await database.StringSetAsync(LeaseKey, "stray-instance")); // no TTL: it would never lapse

        // Started together: both find the stray lease and race to replace it; one wins.
        var starting = new[] { TestGateway.StartAsync(Config(catalog, redis.ConnectionString, "a")), TestGateway.StartAsync(Config(catalog, redis.ConnectionString, "b")) };
        var started = await Task.WhenAll(starting);
        await using var a = started[0];
        await using var b = started[1];
        await Poll.UntilAsync(() => a.GetAsync("/agg"), r => r.StatusCode == HttpStatusCode.OK, "instance a loading", HealWithin);
        await Poll.UntilAsync(() => b.GetAsync("/agg"), r => r.StatusCode == HttpStatusCode.OK, "instance b loading", HealWithin);

        var holder = (string?)await database.StringGetAsync(LeaseKey);
        Assert.NotEqual("stray-instance", holder);
        var ttl = await database.KeyTimeToLiveAsync(LeaseKey);
        Assert.True(ttl is { } left && left > TimeSpan.Zero, $"the lease has a time to live now ({ttl})");
        Assert.Contains(a.Log.Concat(b.Log), e => e.EventName == "DatasetLeaseRepaired");
        await SharingAsync(catalog, a, b);
    }

    [Theory]
    [InlineData("<html>not json</html>")]
    [InlineData("""[{"id":"forged"}]""")]
    public async Task Redis_ForgedValueWithoutTtlBeforeStart_Ignored_LoadsFromItsDownstreamAndOverwritesIt(string body)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var catalog = await CatalogAsync();
        await using var client = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var database = client.GetDatabase();
        Assert.True(await database.StringSetAsync(ValueKey, Forged(body, ttlMs: 60_000))); // no TTL: it would look 0 ms old for ever

        await using var a = await TestGateway.StartAsync(Config(catalog.BaseAddress, redis.ConnectionString, "a", required: true));
        var answer = await Poll.UntilAsync(() => a.GetAsync("/agg"), r => r.StatusCode == HttpStatusCode.OK, "instance a loading", HealWithin);
        Assert.Equal("books", answer.Data.GetProperty("cats")[0].GetProperty("id").GetString());
        var dataset = await DatasetAsync(a);
        Assert.Equal("downstream", dataset.GetProperty("origin").GetString());
        Assert.Equal("ok", dataset.GetProperty("lastOutcome").GetString());
        Assert.True(Calls(catalog, "a") >= 1);
        Assert.Contains(a.Log, e => e.EventName == "SharedCopyInvalid");

        // The forged value is replaced by a good one, which expires.
        await Poll.UntilAsync(async () => await database.KeyTimeToLiveAsync(ValueKey), ttl => ttl is not null, "a good value in Redis");
        var stored = (byte[])(await database.StringGetAsync(ValueKey))!;
        Assert.Contains("books", Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redis_ForgedValueLooksCurrentWhileTheDownstreamFails_NotCountedAsARefresh_ManagementShowsTheRealOutcome()
    {
        await using var redis = await RedisServer.StartAsync();
        var failing = false;
        await using var catalog = await TestDownstream.StartAsync((app, _) => app.MapGet("/categories", (HttpContext c) =>
            TestDownstream.WriteJsonAsync(c, """[{"id":"books"}]""", Volatile.Read(ref failing) ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK)));
        await using var client = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var database = client.GetDatabase();
        await using var a = await TestGateway.StartAsync(Config(catalog, redis.ConnectionString, "a"));
        await LoadedAsync(a);
        await Poll.UntilAsync(async () => await database.KeyExistsAsync(ValueKey), exists => exists, "the copy in Redis");

        // A value whose stored time to live is shorter than its PTTL would always look 0 ms old, and its body is not JSON.
        Volatile.Write(ref failing, true);
        Assert.True(await database.StringSetAsync(ValueKey, Forged("<html>", ttlMs: 1_000), TimeSpan.FromHours(1)));

        var dataset = await Poll.UntilAsync(() => DatasetAsync(a), d => d.GetProperty("lastOutcome").GetString() != "ok", "a refresh that reports the failing downstream", HealWithin);
        Assert.Equal("http_status", dataset.GetProperty("lastOutcome").GetString());
        Assert.NotEqual("fresh", dataset.GetProperty("cache").GetString());
        Assert.True(dataset.GetProperty("failuresInRow").GetInt32() >= 1);
        Assert.Contains(a.Log, e => e.EventName == "SharedCopyInvalid");

        // The downstream recovers: the next refresh loads it and replaces the forged value.
        Volatile.Write(ref failing, false);
        await Poll.UntilAsync(() => DatasetAsync(a), d => d.GetProperty("lastOutcome").GetString() == "ok" && d.GetProperty("cache").GetString() == "fresh", "a good refresh", HealWithin);
        var ttl = await database.KeyTimeToLiveAsync(ValueKey);
        Assert.True(ttl < TimeSpan.FromMinutes(1), $"the forged value was replaced ({ttl} left)");
    }

    private static Task<TestDownstream> CatalogAsync()
    {
        var served = 0;
        return TestDownstream.StartAsync((app, _) => app.MapGet("/categories", (HttpContext c) =>
            TestDownstream.WriteJsonAsync(c, $$"""[{"id":"books","version":{{Interlocked.Increment(ref served)}}}]""")));
    }

    // The same dataset on both instances; each asks with its own query so that the test can tell their calls apart.
    private static GatewayConfig Config(TestDownstream catalog, string redis, string instance) => Config(catalog.BaseAddress, redis, instance);

    private static GatewayConfig Config(Uri catalog, string redis, string instance, bool? required = null) => new GatewayConfig()
        .Cluster("catalog", catalog)
        .Redis(redis)
        .CachedData("categories", "catalog", $"/categories?from={instance}", Interval, timeout: TimeSpan.FromSeconds(1), jitter: 0.1, required: required)
        .Management(enabled: true, ApiKey)
        .Aggregate("agg", "/agg", s => s.CachedSource("cats", "categories", required: true));

    private static int Calls(TestDownstream catalog, string instance) =>
        catalog.RequestsTo("/categories").Count(r => r.Query.TryGetValue("from", out var from) && from == instance);

    private static Task LoadedAsync(TestGateway gateway) =>
        Poll.UntilAsync(() => gateway.GetAsync("/agg"), r => r.StatusCode == HttpStatusCode.OK, "the first load");

    /// <summary>
    /// Sends requests to every gateway, one after another, for <paramref name="window"/>: each must succeed and be
    /// fast (the copy is in memory whatever Redis does). Returns the calls each instance made in that time.
    /// </summary>
    private static async Task<(int FromA, int FromB)> CallsDuringAsync(TestDownstream catalog, TimeSpan window, params TestGateway[] gateways)
    {
        var (a0, b0) = (Calls(catalog, "a"), Calls(catalog, "b"));
        var until = Stopwatch.StartNew();
        var slowest = TimeSpan.Zero;
        var requests = 0;
        var slowestAt = "";
        var elapsed = new List<TimeSpan>();
        while (until.Elapsed < window)
        {
            foreach (var gateway in gateways)
            {
                var answer = await gateway.GetAsync("/agg");
                Assert.True(answer.StatusCode == HttpStatusCode.OK, $"request {requests} failed: {(int)answer.StatusCode} {answer.Body}");
                Assert.Equal("books", answer.Data.GetProperty("cats")[0].GetProperty("id").GetString());
                elapsed.Add(answer.Elapsed);
                if (answer.Elapsed > slowest)
                {
                    (slowest, slowestAt) = (answer.Elapsed, $"request {requests} to {gateway.BaseAddress} at {until.ElapsedMilliseconds} ms");
                }

                requests++;
            }

            await Task.Delay(10);
        }

        // From memory a request takes a millisecond or two; the bounds leave room for a 2-core machine running other
        // tests at the same time (stalls of up to a second were seen there without any Redis at all).
        elapsed.Sort();
        var median = elapsed[elapsed.Count / 2];
        Assert.True(median < TimeSpan.FromMilliseconds(100), $"the median of {requests} requests took {median.TotalMilliseconds} ms");
        Assert.True(slowest < TimeSpan.FromSeconds(2), $"the slowest of {requests} requests took {slowest.TotalMilliseconds} ms ({slowestAt})");
        return (Calls(catalog, "a") - a0, Calls(catalog, "b") - b0);
    }

    /// <summary>Waits (bounded) until one instance holds the lease and the other serves its copy from Redis, then checks one window of calls.</summary>
    private static async Task SharingAsync(TestDownstream catalog, TestGateway a, TestGateway b, TimeSpan? limit = null)
    {
        await Poll.UntilAsync(
            async () => (await DatasetAsync(a), await DatasetAsync(b)),
            d => d.Item1.GetProperty("leaseHeld").GetBoolean() != d.Item2.GetProperty("leaseHeld").GetBoolean()
                && (d.Item1.GetProperty("origin").GetString() == "redis" || d.Item2.GetProperty("origin").GetString() == "redis"),
            "one lease holder and one follower",
            limit);
        var (fromA, fromB) = await CallsDuringAsync(catalog, Window, a, b);
        Assert.InRange(fromA + fromB, 4, 15);
        Assert.True(Math.Min(fromA, fromB) <= 1, $"one instance refreshes for both (calls: a {fromA}, b {fromB})");
    }

    private static async Task<JsonElement> DatasetAsync(TestGateway gateway)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/gateway/cache", UriKind.Relative));
        request.Headers.Add("X-Api-Key", ApiKey);
        var answer = await gateway.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return answer.Root.GetProperty("datasets")[0];
    }

    /// <summary>A value in the documented format (README, "Several instances"): version 1, status, loaded at, the time to live it claims, writer, body.</summary>
    private static byte[] Forged(string body, long ttlMs, int status = 200, string writer = "forger")
    {
        var writerBytes = Encoding.UTF8.GetBytes(writer);
        var bodyBytes = Encoding.UTF8.GetBytes(body);
        var bytes = new byte[22 + writerBytes.Length + bodyBytes.Length];
        bytes[0] = 1;
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(1), status);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(5), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(13), ttlMs);
        bytes[21] = (byte)writerBytes.Length;
        writerBytes.CopyTo(bytes.AsSpan(22));
        bodyBytes.CopyTo(bytes.AsSpan(22 + writerBytes.Length));
        return bytes;
    }
}
