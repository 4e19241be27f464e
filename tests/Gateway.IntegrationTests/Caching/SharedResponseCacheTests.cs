using System.Diagnostics;
using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using StackExchange.Redis;

namespace Gateway.IntegrationTests.Caching;

/// <summary>
/// Two real gateways whose response caches share a real <c>redis-server</c>: an answer cached by one is served by
/// the other without a downstream call; with Redis killed both go on answering, from memory or by calling.
/// </summary>
public sealed class SharedResponseCacheTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Redis_AnswerCachedByOneInstance_ServedByTheOtherWithoutACall_RedisKilled_BothKeepAnswering()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var items = await ItemsAsync();
        await using var a = await TestGateway.StartAsync(Config(items, redis.ConnectionString));
        await using var b = await TestGateway.StartAsync(Config(items, redis.ConnectionString));

        // B's connection to Redis is made by a request of its own, so that the one under test finds it open.
        await OkAsync(b, "/agg/warm");
        var first = await OkAsync(a, "/agg/1");
        Assert.Equal(1, Calls(items, "/items/1"));

        // The write to Redis runs in the background: wait (bounded) until it is there, then B answers from it.
        await using (var client = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString))
        {
            var server = client.GetServer(client.GetEndPoints()[0]);
            var keys = await Poll.UntilAsync(
                async () => await server.KeysAsync(pattern: "*gateway:response:*").ToListAsync(),
                found => found.Count >= 2, "both answers written to Redis");

            // Keys are hashed: no path, query or header value (a token with CacheAuthorized) sits readable in Redis.
            Assert.DoesNotContain(keys, k => k.ToString().Contains("/items/", StringComparison.Ordinal));
        }

        var shared = await OkAsync(b, "/agg/1");
        Assert.Equal(first.Data.GetProperty("item").GetProperty("v").GetInt32(), shared.Data.GetProperty("item").GetProperty("v").GetInt32());
        Assert.Equal(1, Calls(items, "/items/1"));

        await redis.StopAsync();
        var until = Stopwatch.StartNew();
        var requests = 0;
        var elapsed = new List<TimeSpan>();
        while (until.Elapsed < TimeSpan.FromSeconds(1.5))
        {
            foreach (var gateway in (TestGateway[])[a, b])
            {
                // Cached in both memories, and one that neither has seen: every one answers, none hangs on Redis.
                await OkAsync(gateway, "/agg/1");
                var answer = await OkAsync(gateway, $"/agg/new{requests++}");
                Assert.True(answer.Elapsed < TimeSpan.FromSeconds(2), $"request {requests} took {answer.Elapsed.TotalMilliseconds} ms with Redis away");
                elapsed.Add(answer.Elapsed);
            }
        }

        // Each of these misses calls the downstream, a few ms; Redis, away, must add nothing near its 100 ms read timeout
        // (bounds for a loaded 2-core machine).
        elapsed.Sort();
        Assert.True(elapsed[elapsed.Count / 2] < TimeSpan.FromMilliseconds(50), $"the median of {elapsed.Count} misses took {elapsed[elapsed.Count / 2].TotalMilliseconds} ms with Redis away");
        Assert.Equal(1, Calls(items, "/items/1"));
    }

    private static async Task<AggregateAnswer> OkAsync(TestGateway gateway, string path)
    {
        var answer = await gateway.GetAsync(path);
        Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{path} on {gateway.BaseAddress}: {(int)answer.StatusCode} {answer.Body}");
        return answer;
    }

    private static Task<TestDownstream> ItemsAsync()
    {
        var calls = 0;
        return TestDownstream.StartAsync((app, _) => app.MapGet("/items/{id}", (string id, HttpContext c) =>
            TestDownstream.WriteJsonAsync(c, $$"""{"id":"{{id}}","v":{{Interlocked.Increment(ref calls)}}}""")));
    }

    private static int Calls(TestDownstream items, string path) => items.RequestsTo(path).Count;

    private static GatewayConfig Config(TestDownstream items, string redis) => new GatewayConfig()
        .Cluster("items", items.BaseAddress)
        .Redis(redis)
        .Aggregate("agg", "/agg/{id}", s => s.CachedCall("item", "items", "/items/{id}", Ttl));
}
