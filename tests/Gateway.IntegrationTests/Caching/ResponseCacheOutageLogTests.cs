using System.Diagnostics;
using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.IntegrationTests.Caching;

/// <summary>
/// A real <c>redis-server</c> killed while the response cache shares through it: the operator sees the gateway's own
/// throttled line about Redis, not FusionCache's per-operation Warnings (multi-line, one per failed read, write or
/// notification).
/// </summary>
public sealed class ResponseCacheOutageLogTests
{
    [Fact]
    public async Task Redis_KilledMidRun_FusionCacheLinesStayBelowWarning_OnlyOurThrottledLineIsSeen()
    {
        await using var redis = await RedisServer.StartAsync();
        var calls = 0;
        await using var items = await TestDownstream.StartAsync((app, _) => app.MapGet("/items/{id}", (string id, HttpContext c) =>
            TestDownstream.WriteJsonAsync(c, $$"""{"id":"{{id}}","v":{{Interlocked.Increment(ref calls)}}}""")));
        var config = new GatewayConfig()
            .Cluster("items", items.BaseAddress)
            .Redis(redis.ConnectionString)
            .Aggregate("agg", "/agg/{id}", s => s.CachedCall("item", "items", "/items/{id}", TimeSpan.FromMilliseconds(300), staleIfError: TimeSpan.FromMinutes(1)));
        await using var gateway = await TestGateway.StartAsync(config);

        // Entries in memory and in Redis before it goes away.
        for (var i = 0; i < 20; i++)
        {
            await OkAsync(gateway, $"/agg/{i}");
        }

        await using (var client = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString))
        {
            var server = client.GetServer(client.GetEndPoints()[0]);
            await Poll.UntilAsync(async () => await server.KeysAsync(pattern: "*gateway:response:*").CountAsync(), n => n >= 20, "the answers written to Redis");
        }

        var before = gateway.Log.Count;
        await redis.StopAsync();

        // Hits, misses, expired entries refreshed (writes and notifications) for a while with Redis away, past
        // FusionCache's 3-second circuit breaker on the distributed level and the backplane.
        var run = Stopwatch.StartNew();
        var n = 0;
        while (run.Elapsed < TimeSpan.FromSeconds(5))
        {
            await OkAsync(gateway, $"/agg/{n % 20}");
            await OkAsync(gateway, $"/agg/new{n++}");
        }

        var lines = gateway.Log.Skip(before).Where(e => e.Level >= LogLevel.Warning).ToList();
        Assert.True(lines.Count <= 3, $"{lines.Count} lines at Warning or above during the outage ({n * 2} requests):\n{string.Join("\n", lines)}");
        Assert.DoesNotContain(lines, e => e.Category.StartsWith("ZiggyCreatures", StringComparison.Ordinal));
    }

    private static async Task OkAsync(TestGateway gateway, string path)
    {
        var answer = await gateway.GetAsync(path);
        Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{path}: {(int)answer.StatusCode} {answer.Body}");
    }
}
