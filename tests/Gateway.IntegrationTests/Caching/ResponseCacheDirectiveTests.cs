using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gateway.IntegrationTests.Caching;

/// <summary>
/// The response cache honours what a real downstream says about caching its answer: one meant for a single client
/// (<c>private</c>, <c>Set-Cookie</c>) or for no cache (<c>no-store</c>, <c>no-cache</c>) is given to the request that
/// made the call and not stored, unless the source sets <c>Cache:IgnoreCacheControl</c>; failures are never stored.
/// Counted in downstream calls: two requests, one call when stored, two when not.
/// </summary>
public sealed class ResponseCacheDirectiveTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    [Theory]
    [InlineData("no-store", 2)]
    [InlineData("private", 2)]
    [InlineData("no-cache", 2)]
    [InlineData("cookie", 2)]
    [InlineData("PRIVATE, max-age=60", 2)]
    [InlineData("public, max-age=60", 1)]
    [InlineData("private=\"Set-Cookie\"", 1)] // only that header is private, and the gateway stores no header
    [InlineData("none", 1)]
    public async Task Get_DownstreamCacheDirective_StoredOnlyWhenAllowed(string directive, int calls)
    {
        await using var items = await DirectedAsync();
        await using var gateway = await TestGateway.StartAsync(Config(items, ignoreCacheControl: null));

        var first = await OkAsync(gateway, directive);
        var second = await OkAsync(gateway, directive);

        Assert.Equal(calls, items.RequestsTo("/items/").Count);
        Assert.Equal(calls, second.Data.GetProperty("item").GetProperty("v").GetInt32());
        Assert.Equal(1, first.Data.GetProperty("item").GetProperty("v").GetInt32());
        if (calls == 2)
        {
            // Given to the caller as a plain call's answer, with no cache state of its own.
            Assert.False(second.SourceMeta("item").TryGetProperty("cache", out _));
        }
    }

    [Theory]
    [InlineData("no-store")]
    [InlineData("private")]
    [InlineData("no-cache")]
    [InlineData("cookie")]
    public async Task Get_IgnoreCacheControl_StoredWhateverTheDownstreamSays(string directive)
    {
        await using var items = await DirectedAsync();
        await using var gateway = await TestGateway.StartAsync(Config(items, ignoreCacheControl: true));

        await OkAsync(gateway, directive);
        var second = await OkAsync(gateway, directive);

        Assert.Single(items.RequestsTo("/items/"));
        Assert.Equal("fresh", second.SourceMeta("item").GetProperty("cache").GetString());
    }

    [Theory]
    [InlineData("e503", "http_status")]
    [InlineData("e500", "http_status")]
    [InlineData("e404", "http_status")]
    [InlineData("e429", "http_status")]
    [InlineData("html", "invalid_response")]
    [InlineData("hang", "timeout")]
    public async Task Get_DownstreamFails_NotStored_EachRequestCallsAgain(string failure, string kind)
    {
        await using var items = await TestDownstream.StartAsync((app, d) => app.MapGet("/items/{id}", async (string id, HttpContext c) =>
        {
            switch (id)
            {
                case "html":
                    await TestDownstream.WriteBytesAsync(c, "<html>oops</html>"u8.ToArray(), "text/html");
                    break;
                case "hang":
                    await d.HoldAsync(c, limit: TimeSpan.FromSeconds(5));
                    break;
                default:
                    await TestDownstream.WriteJsonAsync(c, """{"error":"no"}""", int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture));
                    break;
            }
        }));
        var config = new GatewayConfig()
            .Cluster("items", items.BaseAddress)
            .Aggregate("agg", "/agg/{id}", s => s.CachedCall("item", "items", "/items/{id}", Long, timeout: TimeSpan.FromMilliseconds(300)));
        await using var gateway = await TestGateway.StartAsync(config);

        var first = await gateway.GetAsync($"/agg/{failure}");
        var second = await gateway.GetAsync($"/agg/{failure}");

        Assert.Equal(kind, first.ErrorKind("item"));
        Assert.Equal(kind, second.ErrorKind("item"));
        await Poll.UntilAsync(() => items.RequestsTo($"/items/{failure}").Count >= 2, "the second call");
        Assert.Equal(2, items.RequestsTo($"/items/{failure}").Count);
    }

    /// <summary>A downstream whose <c>/items/{directive}</c> answers with that Cache-Control (or a cookie), counting its calls in <c>v</c>.</summary>
    private static Task<TestDownstream> DirectedAsync()
    {
        var calls = 0;
        return TestDownstream.StartAsync((app, _) => app.MapGet("/items/{directive}", (string directive, HttpContext c) =>
        {
            switch (directive)
            {
                case "cookie":
                    c.Response.Headers.SetCookie = "session=abc; HttpOnly";
                    break;
                case "none":
                    break;
                default:
                    c.Response.Headers.CacheControl = directive;
                    break;
            }

            return TestDownstream.WriteJsonAsync(c, $$"""{"v":{{Interlocked.Increment(ref calls)}}}""");
        }));
    }

    private static GatewayConfig Config(TestDownstream items, bool? ignoreCacheControl)
    {
        var config = new GatewayConfig()
            .Cluster("items", items.BaseAddress)
            .Aggregate("agg", "/agg/{directive}", s => s.CachedCall("item", "items", "/items/{directive}", Long));
        if (ignoreCacheControl is { } ignore)
        {
            config.Gateway["Aggregates"]!["agg"]!["Sources"]!["item"]!["Cache"]!.AsObject()["IgnoreCacheControl"] = ignore;
        }

        return config;
    }

    private static async Task<AggregateAnswer> OkAsync(TestGateway gateway, string directive)
    {
        var answer = await gateway.GetAsync($"/agg/{Uri.EscapeDataString(directive)}");
        Assert.True(answer.StatusCode == HttpStatusCode.OK && answer.Outcome("item") == "ok", answer.ToString());
        return answer;
    }
}
