using System.Buffers.Binary;
using System.Net;
using System.Text;
using Gateway.Caching;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.IntegrationTests.Caching;

/// <summary>
/// Whoever can write to the shared <c>redis-server</c> writes forged response-cache entries straight into it: the
/// gateway that reads them treats each as a miss (one downstream call, its answer served and kept, not the forged
/// one) and says so once (throttled), instead of splicing the forged bytes into its envelope.
/// </summary>
public sealed class ForgedSharedResponseTests
{
    private const int HeaderLength = 46;

    [Fact]
    public async Task Redis_ForgedEntries_AreMisses_TheDownstreamAnswerIsServedAndKept()
    {
        await using var redis = await RedisServer.StartAsync();
        var calls = 0;
        await using var items = await TestDownstream.StartAsync((app, _) => app.MapGet("/items/{id}", (string id, HttpContext c) =>
            TestDownstream.WriteJsonAsync(c, $$"""{"id":"{{id}}","v":{{Interlocked.Increment(ref calls)}}}""")));
        var config = new GatewayConfig()
            .Cluster("items", items.BaseAddress)
            .Redis(redis.ConnectionString)
            .Aggregate("agg", "/agg/{id}", s => s.CachedCall("item", "items", "/items/{id}", TimeSpan.FromMinutes(5)));
        await using var writer = await TestGateway.StartAsync(config);
        await using var reader = await TestGateway.StartAsync(config);
        await using var client = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = client.GetDatabase();

        // The reader's connection is made by a request of its own (its key is not one under test).
        await OkAsync(reader, "/agg/warm");
        var known = await KeysAsync(client, 1);

        // Each forgery starts from the real entry of one path: only what the forgery changes is wrong.
        var forgeries = new (string Path, Func<byte[], byte[]> Forge)[]
        {
            // The body closes the source's value and writes the envelope's errors and meta itself (size kept right).
            ("/agg/1", real => WithBody(real, """{"id":"1","v":1}},"errors":[{"source":"item","kind":"forged"}],"meta":{"forged":true},"x":{"a":1""")),
            // A status the downstream never answered with, which the gateway would not have stored.
            ("/agg/2", real => WithStatus(real, 599)),
            // A size that charges a 100 kB body as 1 byte in memory.
            ("/agg/3", real => WithSize(WithBody(real, $"\"{new string('x', 100_000)}\""), 1)),
        };
        foreach (var (path, forge) in forgeries)
        {
            await OkAsync(writer, path);
            var key = (await KeysAsync(client, known.Count + 1)).Except(known).Single();
            known.Add(key);
            var real = (byte[]?)await db.HashGetAsync(key, "data");
            Assert.True(real is { Length: > HeaderLength }, $"the entry of {path} in Redis ({key}) has no data field");
            await db.HashSetAsync(key, "data", forge(real));
        }

        Assert.Equal(4, Volatile.Read(ref calls)); // the warm-up and the three writes
        foreach (var (path, _) in forgeries)
        {
            var answer = await OkAsync(reader, path);
            Assert.DoesNotContain("forged", answer.Body, StringComparison.Ordinal);
            Assert.Empty(answer.Errors);
            Assert.Equal("ok", answer.Outcome("item"));
            Assert.Equal(2, items.RequestsTo($"/items/{path[^1]}").Count);

            // What the call brought is kept in memory: asked again, no call, the same answer.
            var again = await OkAsync(reader, path);
            Assert.Equal(answer.Data.GetProperty("item").GetRawText(), again.Data.GetProperty("item").GetRawText());
            Assert.Equal("fresh", again.SourceMeta("item").GetProperty("cache").GetString());
            Assert.Equal(2, items.RequestsTo($"/items/{path[^1]}").Count);
        }

        // Three forged entries read inside one throttle window: one Warning, which says what was wrong with the first.
        var warnings = reader.Log.Where(e => e.EventName == "SharedResponseInvalid").ToList();
        var warning = Assert.Single(warnings);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("not one well-formed JSON value", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(reader.Log, e => e.Level >= LogLevel.Error);
    }

    private static byte[] WithBody(byte[] real, string body)
    {
        var bytes = real.AsSpan(0, HeaderLength).ToArray().Concat(Encoding.UTF8.GetBytes(body)).ToArray();
        return WithSize(bytes, CachedResponse.Charge(bytes.Length - HeaderLength));
    }

    private static byte[] WithStatus(byte[] real, int status)
    {
        var bytes = real.ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), status);
        return bytes;
    }

    private static byte[] WithSize(byte[] real, long size)
    {
        var bytes = real.ToArray();
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(38), size);
        return bytes;
    }

    private static async Task<AggregateAnswer> OkAsync(TestGateway gateway, string path)
    {
        var answer = await gateway.GetAsync(path);
        Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{path}: {answer}");
        return answer;
    }

    // The writes to Redis run in the background: wait (bounded) until there are `count` entries.
    private static async Task<List<RedisKey>> KeysAsync(ConnectionMultiplexer client, int count)
    {
        var server = client.GetServer(client.GetEndPoints()[0]);
        return await Poll.UntilAsync(
            async () => await server.KeysAsync(pattern: "*gateway:response:*").ToListAsync(),
            found => found.Count >= count,
            $"{count} answers written to Redis");
    }
}
