using System.Net;
using Gateway.Configuration;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Gateway.IntegrationTests.Caching;

/// <summary>Cached datasets in the real gateway against a real downstream: from memory, stale, expired, readiness, management.</summary>
public sealed class CachedDataTests
{
    private const string Categories = """[{"id":"books"},{"id":"music"}]""";
    private const string ApiKey = "test-key-0123456789";

    private static Task<TestDownstream> CatalogAsync(Signal? release = null) => TestDownstream.StartAsync((app, d) =>
    {
        app.MapGet("/categories", async (HttpContext c) =>
        {
            if (release is not null)
            {
                await d.HoldAsync(c, release);
            }

            await TestDownstream.WriteJsonAsync(c, Categories);
        });
        app.MapGet("/items/{id}", (string id, HttpContext c) => TestDownstream.WriteJsonAsync(c, $$"""{"item":"{{id}}"}"""));
    });

    [Fact]
    public async Task Get_DownstreamGoesDown_ServedStaleFromMemoryThenStaleExpired()
    {
        var catalog = await CatalogAsync();
        var catalogDown = false;
        try
        {
            await DownstreamGoesDownAsync(catalog, () => catalogDown = true);
        }
        finally
        {
            if (!catalogDown)
            {
                await catalog.DisposeAsync();
            }
        }
    }

    private static async Task DownstreamGoesDownAsync(TestDownstream catalog, Action disposed)
    {
        // Fresh for 200 ms + 300 ms timeout; then served stale for 1.5 s more.
        var config = new GatewayConfig()
            .Cluster("catalog", catalog.BaseAddress)
            .CachedData("categories", "catalog", "/categories", TimeSpan.FromMilliseconds(200), maxStaleness: TimeSpan.FromMilliseconds(1500), timeout: TimeSpan.FromMilliseconds(300), jitter: 0)
            .Aggregate("agg", "/agg", a => a
                .CachedSource("cats", "categories", required: true)
                .Source("first", "catalog", "/items/{cats.0.id}"));
        await using var gateway = await TestGateway.StartAsync(config);

        var fresh = await Poll.UntilAsync(() => gateway.GetAsync("/agg"), a => a.StatusCode == HttpStatusCode.OK, "the first load");
        Assert.Equal("books", fresh.Data.GetProperty("cats")[0].GetProperty("id").GetString());
        Assert.Equal("books", fresh.Data.GetProperty("first").GetProperty("item").GetString());
        Assert.Equal("fresh", fresh.SourceMeta("cats").GetProperty("cache").GetString());
        Assert.True(fresh.SourceMeta("cats").GetProperty("ageMs").GetInt64() >= 0);

        await catalog.DisposeAsync();
        disposed();
        var stale = await Poll.UntilAsync(() => gateway.GetAsync("/agg"), a => a.StatusCode == HttpStatusCode.OK && a.SourceMeta("cats").GetProperty("cache").GetString() == "stale", "a stale answer");
        Assert.Equal(Categories, stale.Data.GetProperty("cats").GetRawText());
        Assert.Equal("false", stale.Complete); // "first" calls the downstream, which is gone

        var expired = await Poll.UntilAsync(() => gateway.GetAsync("/agg"), a => a.StatusCode != HttpStatusCode.OK, "stale_expired");
        Assert.Equal(HttpStatusCode.BadGateway, expired.StatusCode);
        Assert.Equal("stale_expired", expired.ErrorKind("cats"));
        Assert.True(expired.SourceMeta("cats").GetProperty("ageMs").GetInt64() > 2000);
        Assert.False(expired.HasData("cats"));
    }

    [Fact]
    public async Task Ready_RequiredDatasetNotLoadedYet_503UntilTheFirstLoadThen200WhileLiveIs200Throughout()
    {
        var release = new Signal();
        await using var catalog = await CatalogAsync(release);
        var config = new GatewayConfig()
            .Cluster("catalog", catalog.BaseAddress)
            .CachedData("categories", "catalog", "/categories", TimeSpan.FromSeconds(30), timeout: TimeSpan.FromSeconds(20), required: true)
            .Aggregate("agg", "/agg", a => a.CachedSource("cats", "categories", required: true));
        await using var gateway = await TestGateway.StartAsync(config);

        await catalog.WaitForRequestAsync("/categories");
        var notReady = await gateway.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/health/live")).StatusCode);
        var before = await gateway.GetAsync("/agg");
        Assert.Equal("unavailable", before.ErrorKind("cats"));
        Assert.Contains("not loaded yet", before.Error("cats").GetProperty("message").GetString(), StringComparison.Ordinal);

        release.Set();
        await Poll.UntilAsync(() => gateway.GetAsync("/health/ready"), a => a.StatusCode == HttpStatusCode.OK, "readiness after the first load");
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/agg")).StatusCode);
    }

    [Fact]
    public async Task Management_KeyMissingOrWrong401_List200_Refresh202_Unknown404()
    {
        await using var catalog = await CatalogAsync();
        var config = new GatewayConfig()
            .Cluster("catalog", catalog.BaseAddress)
            .CachedData("categories", "catalog", "/categories", TimeSpan.FromMinutes(10))
            .Management(enabled: true, ApiKey)
            .Aggregate("agg", "/agg", a => a.CachedSource("cats", "categories"));
        await using var gateway = await TestGateway.StartAsync(config);
        await catalog.WaitForRequestAsync("/categories");

        var missing = await gateway.GetAsync("/gateway/cache");
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Empty(missing.Body);
        var wrong = await SendAsync(gateway, HttpMethod.Get, "/gateway/cache", "test-key-0123456788");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Empty(wrong.Body);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(gateway, HttpMethod.Post, "/gateway/cache/nosuch/refresh", "x")).StatusCode);

        var list = await Poll.UntilAsync(() => SendAsync(gateway, HttpMethod.Get, "/gateway/cache", ApiKey), a => a.Root.GetProperty("datasets")[0].GetProperty("loaded").GetBoolean(), "the first load");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var dataset = list.Root.GetProperty("datasets").EnumerateArray().Single();
        Assert.Equal("categories", dataset.GetProperty("name").GetString());
        Assert.Equal("fresh", dataset.GetProperty("cache").GetString());
        Assert.Equal("ok", dataset.GetProperty("lastOutcome").GetString());
        Assert.Equal(Categories.Length, dataset.GetProperty("bytes").GetInt32());
        Assert.Equal(0, dataset.GetProperty("failuresInRow").GetInt32());
        Assert.True(dataset.GetProperty("ageMs").GetInt64() >= 0);
        Assert.InRange(dataset.GetProperty("nextRefreshInMs").GetInt64(), 1, 11 * 60 * 1000);

        var refresh = await SendAsync(gateway, HttpMethod.Post, "/gateway/cache/categories/refresh", ApiKey);
        Assert.Equal(HttpStatusCode.Accepted, refresh.StatusCode);
        Assert.True(refresh.Root.GetProperty("queued").GetBoolean());
        await Poll.UntilAsync(() => catalog.RequestsTo("/categories").Count == 2, "the refresh asked for");

        var unknown = await SendAsync(gateway, HttpMethod.Post, "/gateway/cache/nosuch/refresh", ApiKey);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.ContentType);
    }

    [Fact]
    public async Task Management_NotEnabled_NotMapped()
    {
        await using var catalog = await CatalogAsync();
        var config = new GatewayConfig()
            .Cluster("catalog", catalog.BaseAddress)
            .CachedData("categories", "catalog", "/categories", TimeSpan.FromMinutes(10))
            .Aggregate("agg", "/agg", a => a.CachedSource("cats", "categories"));
        await using var gateway = await TestGateway.StartAsync(config);

        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(gateway, HttpMethod.Get, "/gateway/cache", ApiKey)).StatusCode);
    }

    [Fact]
    public async Task Start_ManagementEnabledWithoutApiKey_RefusedNamingTheKey()
    {
        var config = new GatewayConfig()
            .Cluster("catalog", new Uri("http://127.0.0.1:9/"))
            .Management(enabled: true, apiKey: null)
            .Aggregate("agg", "/agg", a => a.Source("x", "catalog", "/x"));

        var ex = await Assert.ThrowsAsync<GatewayConfigurationException>(() => TestGateway.StartAsync(config));
        Assert.Contains(ex.Errors, e => e.StartsWith("Gateway:Management:ApiKey:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_DatasetNoAggregateReads_LogsAWarningAndStillRefreshesIt()
    {
        await using var catalog = await CatalogAsync();
        var config = new GatewayConfig()
            .Cluster("catalog", catalog.BaseAddress)
            .CachedData("categories", "catalog", "/categories", TimeSpan.FromMinutes(10))
            .CachedData("orphan", "catalog", "/categories", TimeSpan.FromMinutes(10))
            .Aggregate("agg", "/agg", a => a.CachedSource("cats", "categories"));
        await using var gateway = await TestGateway.StartAsync(config);

        var warning = Assert.Single(gateway.Log, e => e.EventName == "DatasetUnused");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("orphan", warning.Message, StringComparison.Ordinal);
        await Poll.UntilAsync(() => catalog.RequestsTo("/categories").Count == 2, "both datasets refreshed");
    }

    private static Task<AggregateAnswer> SendAsync(TestGateway gateway, HttpMethod method, string path, string apiKey)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Add("X-Api-Key", apiKey);
        return gateway.SendAsync(request);
    }
}
