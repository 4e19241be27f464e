using System.Diagnostics;
using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Caching;

/// <summary>
/// The per-source response cache in the real gateway against a real downstream. FusionCache reads the system
/// clock, so these use short real durations and assert with generous bounds.
/// </summary>
public sealed class ResponseCacheTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    /// <summary>A downstream whose <c>/items/{id}</c> answers <c>{"id":…,"v":n}</c>, n counting its calls; <paramref name="before"/> may hold or fail a call.</summary>
    private static Task<TestDownstream> ItemsAsync(Func<HttpContext, int, Task<bool>>? before = null, int padding = 0)
    {
        var calls = 0;
        return TestDownstream.StartAsync((app, d) => app.MapGet("/items/{id}", async (string id, HttpContext c) =>
        {
            var n = Interlocked.Increment(ref calls);
            if (before is not null && !await before(c, n))
            {
                return;
            }

            var user = c.Request.Headers.Authorization.ToString();
            var tenant = c.Request.Headers["X-Tenant"].ToString();
            await TestDownstream.WriteJsonAsync(c, $$"""{"id":"{{id}}","v":{{n}},"user":"{{user}}","tenant":"{{tenant}}","pad":"{{new string('x', padding)}}"}""");
        }));
    }

    private static GatewayConfig Config(TestDownstream items, Action<AggregateConfig> sources, TimeSpan? timeout = null) => new GatewayConfig()
        .Cluster("items", items.BaseAddress)
        .Aggregate("agg", "/agg/{id}", sources, timeout: timeout);

    [Fact]
    public async Task Get_1000ConcurrentColdRequests_OneDownstreamCall()
    {
        const int Clients = 1000;
        var arrived = 0;
        var allArrived = new Signal();
        await using var items = await ItemsAsync(async (c, n) =>
        {
            // Holds the first call until every client is at the gateway (bounded), so they all miss together.
            await allArrived.TryWaitAsync(TimeSpan.FromSeconds(20), c.RequestAborted);
            return true;
        });
        var config = Config(items, a => a.CachedCall("item", "items", "/items/{id}", Long, timeout: TimeSpan.FromSeconds(25)), timeout: TimeSpan.FromSeconds(30));
        await using var gateway = await TestGateway.StartAsync(config, app => app.Use(async (context, next) =>
        {
            if (Interlocked.Increment(ref arrived) == Clients)
            {
                allArrived.Set();
            }

            await next(context);
        }));
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

        var answers = await Task.WhenAll(Enumerable.Range(0, Clients).Select(async _ =>
        {
            using var response = await client.GetAsync(new Uri("/agg/7", UriKind.Relative));
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));

        Assert.True(allArrived.IsSet, "every client reached the gateway");
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.All(answers, a => Assert.Contains("\"v\":1", a.Body, StringComparison.Ordinal));
        Assert.Single(items.RequestsTo("/items/7"));
    }

    [Fact]
    public async Task Get_FreshHit_NoDownstreamCallAndCacheFresh()
    {
        await using var items = await ItemsAsync();
        await using var gateway = await TestGateway.StartAsync(Config(items, a => a.CachedCall("item", "items", "/items/{id}", Long)));

        var first = await gateway.GetAsync("/agg/1");
        var second = await gateway.GetAsync("/agg/1");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(first.Data.GetProperty("item").GetRawText(), second.Data.GetProperty("item").GetRawText());
        Assert.Equal("ok", second.Outcome("item"));
        Assert.Equal("fresh", second.SourceMeta("item").GetProperty("cache").GetString());
        Assert.InRange(second.SourceMeta("item").GetProperty("ageMs").GetInt64(), 0, 60_000);
        Assert.Single(items.RequestsTo("/items/1"));
    }

    [Fact]
    public async Task Get_PastTtlWithinStaleWhileRevalidate_StaleServedAndOneBackgroundRefresh()
    {
        var releaseRefresh = new Signal();
        await using var items = await ItemsAsync(async (c, n) =>
        {
            if (n == 2)
            {
                await releaseRefresh.TryWaitAsync(TimeSpan.FromSeconds(20), c.RequestAborted);
            }

            return true;
        });
        var ttl = TimeSpan.FromMilliseconds(300);
        await using var gateway = await TestGateway.StartAsync(Config(items, a => a.CachedCall("item", "items", "/items/{id}", ttl, staleWhileRevalidate: Long)));
        var loaded = Stopwatch.StartNew();
        Assert.Equal(1, (await gateway.GetAsync("/agg/1")).Data.GetProperty("item").GetProperty("v").GetInt32());
        await Task.Delay(ttl * 2 - loaded.Elapsed + TimeSpan.FromMilliseconds(50));

        // The refresh is held: every answer meanwhile is the stale copy, at once, and only one refresh is made.
        var stale = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => gateway.GetAsync("/agg/1")));
        Assert.All(stale, s => Assert.Equal("stale", s.SourceMeta("item").GetProperty("cache").GetString()));
        Assert.All(stale, s => Assert.Equal(1, s.Data.GetProperty("item").GetProperty("v").GetInt32()));
        Assert.All(stale, s => Assert.True(s.SourceMeta("item").GetProperty("ageMs").GetInt64() >= 300));
        await items.WaitForRequestAsync(r => r.Path == "/items/1" && items.RequestsTo("/items/1").Count >= 2);
        Assert.Equal(2, items.RequestsTo("/items/1").Count);

        releaseRefresh.Set();
        var fresh = await Poll.UntilAsync(() => gateway.GetAsync("/agg/1"), a => a.Data.GetProperty("item").GetProperty("v").GetInt32() == 2, "the refreshed copy");
        Assert.Equal("fresh", fresh.SourceMeta("item").GetProperty("cache").GetString());
        Assert.Equal(2, items.RequestsTo("/items/1").Count);
    }

    [Fact]
    public async Task Get_DownstreamFailsWithinStaleIfError_StaleOkThenFailureAfterTheWindow()
    {
        var failing = false;
        await using var items = await ItemsAsync(async (c, n) =>
        {
            if (!Volatile.Read(ref failing))
            {
                return true;
            }

            await TestDownstream.WriteJsonAsync(c, """{"error":"down"}""", StatusCodes.Status503ServiceUnavailable);
            return false;
        });
        var ttl = TimeSpan.FromMilliseconds(400);
        var staleIfError = TimeSpan.FromSeconds(2);
        await using var gateway = await TestGateway.StartAsync(Config(items, a => a.CachedCall("item", "items", "/items/{id}", ttl, staleIfError: staleIfError, required: true)));
        var loaded = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/agg/1")).StatusCode);
        Volatile.Write(ref failing, true);
        await Task.Delay(ttl + TimeSpan.FromMilliseconds(200));

        var stale = await gateway.GetAsync("/agg/1");
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Equal("ok", stale.Outcome("item"));
        Assert.Equal("stale", stale.SourceMeta("item").GetProperty("cache").GetString());
        Assert.True(stale.SourceMeta("item").GetProperty("ageMs").GetInt64() >= 400);
        Assert.Equal(1, stale.Data.GetProperty("item").GetProperty("v").GetInt32());
        Assert.True(items.RequestsTo("/items/1").Count >= 2, "the failed call was made");

        var failed = await Poll.UntilAsync(() => gateway.GetAsync("/agg/1"), a => a.StatusCode != HttpStatusCode.OK, "the end of the StaleIfError window", TimeSpan.FromSeconds(15));
        Assert.True(loaded.Elapsed >= ttl + staleIfError - TimeSpan.FromMilliseconds(50), $"failed after {loaded.Elapsed}, inside the window");
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Equal("http_status", failed.ErrorKind("item"));
        Assert.False(failed.HasData("item"));
    }

    [Fact]
    public async Task Get_AuthorizationWithoutCacheAuthorized_PlainCallsNeverShared()
    {
        await using var items = await ItemsAsync();
        var config = Config(items, a => a.CachedCall("item", "items", "/items/{id}", Long));
        config.Gateway["Downstreams"]!["items"] = new System.Text.Json.Nodes.JsonObject { ["PropagateHeaders"] = new System.Text.Json.Nodes.JsonArray("Authorization") };
        await using var gateway = await TestGateway.StartAsync(config);

        var alice = await GetAsUserAsync(gateway, "Bearer alice");
        var bob = await GetAsUserAsync(gateway, "Bearer bob");
        var aliceAgain = await GetAsUserAsync(gateway, "Bearer alice");

        Assert.Equal("Bearer alice", alice.Data.GetProperty("item").GetProperty("user").GetString());
        Assert.Equal("Bearer bob", bob.Data.GetProperty("item").GetProperty("user").GetString());
        Assert.Equal(3, aliceAgain.Data.GetProperty("item").GetProperty("v").GetInt32());
        Assert.False(aliceAgain.SourceMeta("item").TryGetProperty("cache", out _));
        Assert.Equal(3, items.RequestsTo("/items/1").Count);

        // Without Authorization the same source is cached.
        await gateway.GetAsync("/agg/1");
        Assert.Equal("fresh", (await gateway.GetAsync("/agg/1")).SourceMeta("item").GetProperty("cache").GetString());
        Assert.Equal(4, items.RequestsTo("/items/1").Count);
    }

    [Fact]
    public async Task Get_CacheAuthorized_EachTokenItsOwnEntry()
    {
        await using var items = await ItemsAsync();
        var config = Config(items, a => a.CachedCall("item", "items", "/items/{id}", Long, cacheAuthorized: true));
        config.Gateway["Downstreams"]!["items"] = new System.Text.Json.Nodes.JsonObject { ["PropagateHeaders"] = new System.Text.Json.Nodes.JsonArray("Authorization") };
        await using var gateway = await TestGateway.StartAsync(config);

        var alice = await GetAsUserAsync(gateway, "Bearer alice");
        var bob = await GetAsUserAsync(gateway, "Bearer bob");
        var aliceAgain = await GetAsUserAsync(gateway, "Bearer alice");
        var bobAgain = await GetAsUserAsync(gateway, "Bearer bob");

        Assert.Equal("Bearer alice", aliceAgain.Data.GetProperty("item").GetProperty("user").GetString());
        Assert.Equal(alice.Data.GetProperty("item").GetRawText(), aliceAgain.Data.GetProperty("item").GetRawText());
        Assert.Equal("Bearer bob", bobAgain.Data.GetProperty("item").GetProperty("user").GetString());
        Assert.Equal(bob.Data.GetProperty("item").GetRawText(), bobAgain.Data.GetProperty("item").GetRawText());
        Assert.Equal("fresh", bobAgain.SourceMeta("item").GetProperty("cache").GetString());
        Assert.Equal(2, items.RequestsTo("/items/1").Count);
    }

    [Fact]
    public async Task Get_VaryByHeader_SeparateEntriesPerValue()
    {
        await using var items = await ItemsAsync();
        var config = Config(items, a => a.CachedCall("item", "items", "/items/{id}", Long, varyBy: ["X-Tenant"])).PropagateHeaders("X-Tenant");
        await using var gateway = await TestGateway.StartAsync(config);

        var t1 = await GetWithHeaderAsync(gateway, "X-Tenant", "t1");
        var t2 = await GetWithHeaderAsync(gateway, "X-Tenant", "t2");
        var t1Again = await GetWithHeaderAsync(gateway, "X-Tenant", "t1");

        Assert.Equal("t1", t1.Data.GetProperty("item").GetProperty("tenant").GetString());
        Assert.Equal("t2", t2.Data.GetProperty("item").GetProperty("tenant").GetString());
        Assert.Equal(t1.Data.GetProperty("item").GetRawText(), t1Again.Data.GetProperty("item").GetRawText());
        Assert.Equal(2, items.RequestsTo("/items/1").Count);
    }

    [Fact]
    public async Task Get_PastMaxBytes_LeastRecentlyUsedEvicted()
    {
        // Each entry: ~1,100 bytes of body in a 1,280-byte buffer + 512 overhead; three fit in 6,000 bytes, four do not.
        await using var items = await ItemsAsync(padding: 1000);
        var config = Config(items, a => a.CachedCall("item", "items", "/items/{id}", Long)).CacheMaxBytes(6000);
        await using var gateway = await TestGateway.StartAsync(config);

        foreach (var id in new[] { "1", "2", "3", "1", "4" })
        {
            Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync($"/agg/{id}")).StatusCode);
        }

        Assert.Single(items.RequestsTo("/items/1"));
        await gateway.GetAsync("/agg/1");
        await gateway.GetAsync("/agg/3");
        Assert.Single(items.RequestsTo("/items/1"));
        Assert.Single(items.RequestsTo("/items/3"));
        await gateway.GetAsync("/agg/2");
        Assert.Equal(2, items.RequestsTo("/items/2").Count);
    }

    [Fact]
    public async Task Get_FirstWaiterLeaves_OthersStillServedByTheOneCall()
    {
        var release = new Signal();
        await using var items = await ItemsAsync(async (c, n) =>
        {
            await release.TryWaitAsync(TimeSpan.FromSeconds(20), c.RequestAborted);
            return true;
        });
        await using var gateway = await TestGateway.StartAsync(Config(items, a => a.CachedCall("item", "items", "/items/{id}", Long, timeout: TimeSpan.FromSeconds(4))));

        using var leaving = new CancellationTokenSource();
        var first = gateway.GetAsync("/agg/1", leaving.Token);
        await items.WaitForRequestAsync("/items/1");
        var second = gateway.GetAsync("/agg/1");
        await Task.Delay(100);
        await leaving.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        release.Set();

        var answer = await second;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(1, answer.Data.GetProperty("item").GetProperty("v").GetInt32());
        Assert.Single(items.RequestsTo("/items/1"));
    }

    private static Task<AggregateAnswer> GetAsUserAsync(TestGateway gateway, string authorization) => GetWithHeaderAsync(gateway, "Authorization", authorization);

    private static Task<AggregateAnswer> GetWithHeaderAsync(TestGateway gateway, string name, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/agg/1", UriKind.Relative));
        request.Headers.TryAddWithoutValidation(name, value);
        return gateway.SendAsync(request);
    }
}
