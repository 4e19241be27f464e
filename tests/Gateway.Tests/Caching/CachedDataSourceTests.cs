using System.Buffers;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Aggregation;
using Gateway.Caching;
using Gateway.Model;
using Gateway.Tests.Aggregation;
using Microsoft.AspNetCore.Http;
using static Gateway.Tests.Caching.CachedDataHarness;

namespace Gateway.Tests.Caching;

/// <summary>An aggregate source <c>{ "CachedData": ... }</c>: served from memory, fresh, stale, then stale_expired.</summary>
public sealed class CachedDataSourceTests
{
    private const string Categories = """[{"id":"books"},{"id":"music"}]""";

    // Interval 10 s, no jitter, refresh timeout 1 s: fresh for 11 s; MaxStaleness 30 s: served until 41 s old.
    private static CachedDataHarness Harness(bool required = false) => new(
        new JsonObject { ["categories"] = DatasetConfig("10s", jitter: 0, timeout: "1s", maxStaleness: "30s") },
        new JsonObject
        {
            ["Route"] = "/agg",
            ["Sources"] = new JsonObject
            {
                ["cats"] = new JsonObject { ["CachedData"] = "categories", ["Required"] = required },
                ["first"] = new JsonObject { ["Cluster"] = "catalog", ["Path"] = "/items/{cats.0.id}" },
            },
        });

    private static Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> Downstream(bool refreshFails, List<string>? items = null) => (request, _) =>
    {
        var path = request.RequestUri!.AbsolutePath;
        if (path.StartsWith("/items/", StringComparison.Ordinal))
        {
            lock (items ?? [])
            {
                items?.Add(path);
            }

            return Task.FromResult(FanOutHarness.Json("""{"item":true}"""));
        }

        return Task.FromResult(refreshFails ? Status(HttpStatusCode.ServiceUnavailable) : FanOutHarness.Json(Categories));
    };

    [Fact]
    public async Task Read_BeforeFirstLoad_UnavailableNotLoadedYetWithoutWaiting()
    {
        await using var harness = Harness(required: true);

        var run = harness.RunAsync();
        Assert.True(run.IsCompleted, "a cached-data source never waits");
        var results = await run;

        var cats = harness.Result(results, "cats");
        Assert.Equal(SourceOutcome.Unavailable, cats.Outcome);
        Assert.Equal("dataset 'categories' has not loaded yet", cats.Message);
        Assert.Equal(SourceOutcome.Skipped, harness.Result(results, "first").Outcome);
        Assert.Equal(StatusCodes.Status502BadGateway, AggregateVerdict.From(harness.Plan!.Definition, results).StatusCode);
    }

    [Fact]
    public async Task Read_Loaded_ServedFreshFromMemoryAndADependentReadsItsFields()
    {
        var items = new List<string>();
        await using var harness = Harness();
        harness.Handler = Downstream(refreshFails: false, items);
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);
        harness.Time.Advance(TimeSpan.FromSeconds(5));

        var results = await harness.RunAsync().Within();

        var cats = harness.Result(results, "cats");
        Assert.Equal(SourceOutcome.Ok, cats.Outcome);
        Assert.Equal(CacheState.Fresh, cats.Cache);
        Assert.Equal(5000, cats.AgeMs);
        Assert.Equal(Categories, Encoding.UTF8.GetString(cats.Body!.Span));
        Assert.Same(dataset.Copy!.Body, cats.Body);
        Assert.Equal(SourceOutcome.Ok, harness.Result(results, "first").Outcome);
        Assert.Equal(["/items/books"], items);
    }

    [Fact]
    public async Task Read_RefreshesFail_StaleUntilMaxStalenessThenStaleExpired()
    {
        await using var harness = Harness(required: true);
        harness.Handler = Downstream(refreshFails: false);
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);
        var loadedAt = harness.Time.GetTimestamp();

        harness.Handler = Downstream(refreshFails: true);
        await harness.NextRefreshAsync(dataset);
        Assert.Equal(1, dataset.FailuresInRow);
        var stale = harness.Result(await harness.RunAsync().Within(), "cats");
        Assert.Equal(CacheState.Stale, stale.Cache);
        Assert.Equal(10_000, stale.AgeMs);

        // Served (stale) up to 11 s fresh + 30 s, back-off retries failing all along.
        await AdvanceToAgeAsync(harness, dataset, loadedAt, TimeSpan.FromSeconds(41));
        Assert.True(dataset.FailuresInRow > 3);
        var last = await harness.RunAsync().Within();
        Assert.Equal(CacheState.Stale, harness.Result(last, "cats").Cache);
        Assert.Equal(41_000, harness.Result(last, "cats").AgeMs);

        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        var results = await harness.RunAsync().Within();
        var expired = harness.Result(results, "cats");
        Assert.Equal(SourceOutcome.StaleExpired, expired.Outcome);
        Assert.Null(expired.Body);
        Assert.Equal(41_001, expired.AgeMs);
        Assert.Contains("41000 ms", expired.Message, StringComparison.Ordinal);
        Assert.Equal(SourceOutcome.Skipped, harness.Result(results, "first").Outcome);
        Assert.Equal(StatusCodes.Status502BadGateway, AggregateVerdict.From(harness.Plan!.Definition, results).StatusCode);

        // A good refresh brings it back, fresh.
        harness.Handler = Downstream(refreshFails: false);
        await harness.NextRefreshAsync(dataset);
        var back = harness.Result(await harness.RunAsync().Within(), "cats");
        Assert.Equal(CacheState.Fresh, back.Cache);
        Assert.Equal(0, back.AgeMs);
    }

    [Fact]
    public async Task Read_NoRefreshFailedButCopyOverdue_StaleOnceOlderThanIntervalJitterAndTimeout()
    {
        await using var harness = Harness();
        harness.Handler = Downstream(refreshFails: false);
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);
        await harness.StopWorkersAsync(); // the next refresh is queued but nobody runs it

        harness.Time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(CacheState.Fresh, harness.Result(await harness.RunAsync().Within(), "cats").Cache);
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(CacheState.Stale, harness.Result(await harness.RunAsync().Within(), "cats").Cache);
    }

    [Fact]
    public async Task Envelope_CachedSource_MetaHasCacheAndAgeMsAndExpiredKindIsStaleExpired()
    {
        await using var harness = Harness();
        harness.Handler = Downstream(refreshFails: false);
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);
        harness.Time.Advance(TimeSpan.FromMilliseconds(250));

        var fresh = Write(harness, await harness.RunAsync().Within());
        Assert.Equal("books", fresh.GetProperty("data").GetProperty("cats")[0].GetProperty("id").GetString());
        var meta = fresh.GetProperty("meta").GetProperty("sources").GetProperty("cats");
        Assert.Equal("ok", meta.GetProperty("outcome").GetString());
        Assert.Equal("fresh", meta.GetProperty("cache").GetString());
        Assert.Equal(250, meta.GetProperty("ageMs").GetInt64());
        Assert.False(harness.Result(await harness.RunAsync(), "first").Cache != CacheState.None);
        Assert.False(fresh.GetProperty("meta").GetProperty("sources").GetProperty("first").TryGetProperty("cache", out _));

        await harness.StopWorkersAsync();
        harness.Time.Advance(TimeSpan.FromSeconds(42));
        var expired = Write(harness, await harness.RunAsync().Within());
        var error = expired.GetProperty("errors").EnumerateArray().Single(e => e.GetProperty("source").GetString() == "cats");
        Assert.Equal("stale_expired", error.GetProperty("kind").GetString());
        var expiredMeta = expired.GetProperty("meta").GetProperty("sources").GetProperty("cats");
        Assert.Equal("stale_expired", expiredMeta.GetProperty("outcome").GetString());
        Assert.False(expiredMeta.TryGetProperty("cache", out _));
        Assert.Equal(42_250, expiredMeta.GetProperty("ageMs").GetInt64());
    }

    [Fact]
    public async Task Release_SharedBody_TheCopyStaysIntactForOtherRequests()
    {
        await using var harness = Harness();
        harness.Handler = Downstream(refreshFails: false);
        var dataset = harness.Dataset("categories");
        await harness.StartAsync();
        await harness.RefreshedAsync(dataset);

        var first = await harness.RunAsync().Within();
        foreach (var result in first)
        {
            result.Body?.Release(); // what the endpoint does once the answer is written
        }

        var second = await harness.RunAsync().Within();
        Assert.Equal(Categories, Encoding.UTF8.GetString(harness.Result(second, "cats").Body!.Span));
    }

    private static JsonElement Write(CachedDataHarness harness, SourceResult[] results)
    {
        var output = new ArrayBufferWriter<byte>();
        EnvelopeWriter.Write(output, harness.Plan!.Definition, results, AggregateVerdict.From(harness.Plan.Definition, results), 1);
        return JsonDocument.Parse(output.WrittenMemory).RootElement.Clone();
    }

    // Advances fake time to when the copy loaded at `loadedAt` is `age` old, letting every refresh due on the way run.
    private static async Task AdvanceToAgeAsync(CachedDataHarness harness, CachedDataset dataset, long loadedAt, TimeSpan age)
    {
        while (true)
        {
            var left = age - harness.Time.GetElapsedTime(loadedAt, harness.Time.GetTimestamp());
            if (harness.DueIn(dataset) > left)
            {
                harness.Time.Advance(left);
                return;
            }

            await harness.NextRefreshAsync(dataset);
        }
    }
}
