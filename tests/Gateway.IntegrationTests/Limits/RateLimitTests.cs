using System.Net;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Limits;

/// <summary>
/// Inbound rate limits on the real gateway: per client address (X-Forwarded-For only from trusted proxies) and
/// per aggregate, each answering 429 with Retry-After and a problem body. Windows are a minute long, so no window
/// turns over during a test, but for the one test that waits for a window to turn over.
/// </summary>
public sealed class RateLimitTests
{
    private static async Task<TestDownstream> StartDownstreamAsync() =>
        await TestDownstream.StartAsync((app, _) => app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"ok":true}""")));

    private static GatewayConfig Config(TestDownstream downstream, int? perClient = null, string[]? trustedProxies = null, string window = "1m")
    {
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate("profile", "/profile/{id}", a => a.Source("user", "users", "/users/{id}", required: true));
        if (perClient is { } permits)
        {
            config.Gateway["RateLimiting"] = new JsonObject { ["PerClient"] = new JsonObject { ["PermitLimit"] = permits, ["Window"] = window } };
        }

        if (trustedProxies is not null)
        {
            config.Gateway["TrustedProxies"] = new JsonArray([.. trustedProxies.Select(p => JsonValue.Create(p))]);
        }

        return config;
    }

    private static void AssertRateLimited(AggregateAnswer answer, string scope)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, answer.StatusCode);
        // The window's length, in whole seconds (ASP.NET Core's fixed window reports the window as its retry-after).
        Assert.Equal(TimeSpan.FromMinutes(1), answer.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.Equal(429, answer.Root.GetProperty("status").GetInt32());
        Assert.Contains(scope, answer.Root.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("false", answer.Complete);
        Assert.True(answer.Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task PerClient_ClientOverItsLimit_Gets429WhileAnotherClientIsServed()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream, perClient: 2));
        using var other = AddressedClient.Create(gateway.BaseAddress, "127.0.0.2");

        var first = await gateway.GetAsync("/profile/1");
        var second = await gateway.GetAsync("/profile/2");
        var third = await gateway.GetAsync("/profile/3");
        var otherClient = await other.GetAsync("/profile/4", forwardedFor: null);
        var health = await gateway.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        AssertRateLimited(third, "per-client");
        Assert.Empty(downstream.RequestsTo("/users/3"));
        Assert.Equal(HttpStatusCode.OK, otherClient.StatusCode);
        // The gateway's own endpoints are not the traffic it limits.
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task PerClient_WindowTurnsOver_TheClientIsServedAgain()
    {
        // The client's window is one of the partitioned limiter's, replenished by its own timer (there is no
        // timer per window): a window that never turned over would refuse the client for good. Wall time (the
        // limiter's clock is not injectable), with a generous bound.
        await Warmup.EnsureAsync();
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream, perClient: 1, window: "00:00:01"));

        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/profile/1")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await gateway.GetAsync("/profile/2")).StatusCode);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        HttpStatusCode status;
        do
        {
            await Task.Delay(200);
            status = (await gateway.GetAsync("/profile/3")).StatusCode;
        }
        while (status == HttpStatusCode.TooManyRequests && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task PerClient_ForwardedForFromTrustedProxy_EachForwardedClientHasItsOwnLimit()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream, perClient: 1, trustedProxies: ["127.0.0.1"]));
        var client = gateway.Client;

        var a1 = await client.GetAsync("/profile/1", "203.0.113.1");
        var a2 = await client.GetAsync("/profile/2", "203.0.113.1");
        var b1 = await client.GetAsync("/profile/3", "203.0.113.2");
        // Only the hop the trusted proxy appended counts; what the client itself wrote in front of it is not believed.
        var aSpoofing = await client.GetAsync("/profile/4", "198.51.100.9, 203.0.113.1");

        Assert.Equal(HttpStatusCode.OK, a1.StatusCode);
        AssertRateLimited(a2, "per-client");
        Assert.Equal(HttpStatusCode.OK, b1.StatusCode);
        AssertRateLimited(aSpoofing, "per-client");
    }

    [Fact]
    public async Task PerClient_ForwardedForFromUntrustedConnection_DoesNotChangeThePartition()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await StartDownstreamAsync();
        // Loopback is not in the list: ASP.NET Core's default trust in loopback proxies must be gone.
        await using var gateway = await TestGateway.StartAsync(Config(downstream, perClient: 1, trustedProxies: ["10.0.0.0/8"]));
        using var other = AddressedClient.Create(gateway.BaseAddress, "127.0.0.2");

        var first = await gateway.Client.GetAsync("/profile/1", "203.0.113.1");
        var spoofed = await gateway.Client.GetAsync("/profile/2", "203.0.113.2");
        var otherClient = await other.GetAsync("/profile/3", "203.0.113.1");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        AssertRateLimited(spoofed, "per-client");
        Assert.Equal(HttpStatusCode.OK, otherClient.StatusCode);
    }

    [Fact]
    public async Task Aggregate_OverItsRateLimit_EveryClientGets429WhileOtherAggregatesAreServed()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await StartDownstreamAsync();
        var config = Config(downstream)
            .Aggregate("limited", "/limited/{id}", a => a.Source("user", "users", "/users/{id}"));
        config.Gateway["Aggregates"]!["limited"]!["RateLimit"] = new JsonObject { ["PermitLimit"] = 2, ["Window"] = "1m" };
        await using var gateway = await TestGateway.StartAsync(config, app =>
            app.MapAggregate("card", "/card/{id}", a => a.WithRateLimit(1, TimeSpan.FromMinutes(1)).AddSource("user", "users", "/users/{id}")));
        using var other = AddressedClient.Create(gateway.BaseAddress, "127.0.0.2");

        var mine = await gateway.GetAsync("/limited/1");
        var theirs = await other.GetAsync("/limited/2", forwardedFor: null);
        var mineAgain = await gateway.GetAsync("/limited/3");
        var theirsAgain = await other.GetAsync("/limited/4", forwardedFor: null);
        var unlimited = await gateway.GetAsync("/profile/5");
        var card = await gateway.GetAsync("/card/6");
        var cardAgain = await other.GetAsync("/card/7", forwardedFor: null);

        Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        Assert.Equal(HttpStatusCode.OK, theirs.StatusCode);
        AssertRateLimited(mineAgain, "aggregate");
        AssertRateLimited(theirsAgain, "aggregate");
        Assert.Empty(downstream.RequestsTo("/users/3"));
        Assert.Equal(HttpStatusCode.OK, unlimited.StatusCode);
        Assert.Equal(HttpStatusCode.OK, card.StatusCode);
        AssertRateLimited(cardAgain, "aggregate");
    }
}
