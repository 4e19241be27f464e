using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Proxy;

/// <summary>
/// Pass-through routes (<c>ReverseProxy:Routes</c>) against a real Kestrel downstream: the downstream's answer
/// reaches the client as it was sent, and a route shares a path with an aggregate when their methods differ.
/// </summary>
public sealed class PassThroughTests
{
    [Fact]
    public async Task Route_DownstreamAnswers_StatusBodyAndHeadersPassThrough()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/items/{id}", async (HttpContext c) =>
            {
                c.Response.Headers["X-Downstream"] = "items";
                c.Response.Headers.ETag = "\"v7\"";
                c.Response.Headers.CacheControl = "max-age=60";
                await TestDownstream.WriteBytesAsync(c, Encoding.UTF8.GetBytes($"item {c.Request.RouteValues["id"]}, not JSON"), "text/plain", StatusCodes.Status203NonAuthoritative);
            }));
        var config = new GatewayConfig()
            .Cluster("shop", downstream.BaseAddress)
            .Route("shop", "shop", "/shop/{**rest}", configure: r => r["Transforms"] = new JsonArray(new JsonObject { ["PathRemovePrefix"] = "/shop" }));
        await using var gateway = await TestGateway.StartAsync(config);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/shop/items/7?color=red&size=m", UriKind.Relative));
        request.Headers.Add("X-Client", "c-1");
        var answer = await gateway.SendAsync(request);

        Assert.Equal(HttpStatusCode.NonAuthoritativeInformation, answer.StatusCode);
        Assert.Equal("item 7, not JSON", answer.Body);
        Assert.Equal("text/plain", answer.ContentType);
        Assert.Equal("items", Assert.Single(answer.Headers.GetValues("X-Downstream")));
        Assert.Equal("\"v7\"", answer.Headers.ETag?.ToString());
        Assert.Equal(TimeSpan.FromSeconds(60), answer.Headers.CacheControl?.MaxAge);
        // Not an aggregate answer.
        Assert.Null(answer.Complete);
        var received = Assert.Single(downstream.Requests);
        Assert.Equal("/items/7?color=red&size=m", received.RawTarget);
        Assert.Equal("c-1", received.Headers["X-Client"]);
    }

    // The gateway drops data protection's start-up warm-up of the key ring (memory for a feature few clusters use):
    // session affinity must still work, its key ring loaded on the first cookie.
    [Fact]
    public async Task Route_SessionAffinity_TheCookieKeepsTheClientOnOneDestination()
    {
        await using var first = await TestDownstream.StartAsync((app, d) => app.MapGet("/who", () => "first"));
        await using var second = await TestDownstream.StartAsync((app, d) => app.MapGet("/who", () => "second"));
        var config = new GatewayConfig()
            .Cluster("sticky", ("a", first.BaseAddress), ("b", second.BaseAddress))
            .LoadBalancing("sticky", "RoundRobin")
            .Route("sticky", "sticky", "/sticky/{**rest}", configure: r => r["Transforms"] = new JsonArray(new JsonObject { ["PathRemovePrefix"] = "/sticky" }));
        config.Root["ReverseProxy"]!["Clusters"]!["sticky"]!["SessionAffinity"] = new JsonObject { ["Enabled"] = true, ["AffinityKeyName"] = ".Gateway.Affinity" };
        Assert.DoesNotContain(ProxyServices(), d => d.ImplementationType?.FullName == Gateway.Proxy.ProxyExtensions.KeyRingWarmUp);
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/sticky/who");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var cookie = Assert.Single(answer.Headers.GetValues("Set-Cookie"), c => c.StartsWith(".Gateway.Affinity=", StringComparison.Ordinal)).Split(';')[0];
        for (var i = 0; i < 4; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/sticky/who", UriKind.Relative));
            request.Headers.Add("Cookie", cookie);
            var again = await gateway.SendAsync(request);
            // Round robin alone would alternate between the two.
            Assert.Equal(answer.Body, again.Body);
        }
    }

    private static Microsoft.Extensions.DependencyInjection.ServiceCollection ProxyServices()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        Gateway.Proxy.ProxyExtensions.AddGatewayProxy(services, new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        return services;
    }

    [Fact]
    public async Task Route_DownstreamRedirects_ClientGets302AndTheRedirectIsNotFollowed()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/old", (HttpContext c) =>
            {
                c.Response.StatusCode = StatusCodes.Status302Found;
                c.Response.Headers.Location = "/new";
                return Task.CompletedTask;
            });
            app.MapGet("/new", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
        });
        var config = new GatewayConfig()
            .Cluster("site", downstream.BaseAddress)
            .Route("site", "site", "/{**rest}");
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/old");

        Assert.Equal(HttpStatusCode.Found, answer.StatusCode);
        Assert.Equal("/new", answer.Headers.Location?.OriginalString);
        Assert.Equal("/old", Assert.Single(downstream.Requests).Path);
    }

    [Fact]
    public async Task RouteForPostAndAggregateForGet_SamePath_GatewayStartsAndServesBoth()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, $$"""{"id":"{{c.Request.RouteValues["id"]}}"}"""));
            app.MapPost("/api/x/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"created":true}""", StatusCodes.Status201Created));
        });
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Route("create", "users", "/api/x/{id}", methods: ["POST"])
            .Aggregate("read", "/api/x/{userId}", a => a.Source("profile", "users", "/users/{userId}", required: true));
        await using var gateway = await TestGateway.StartAsync(config);

        var read = await gateway.GetAsync("/api/x/5");
        using var post = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/x/5", UriKind.Relative)) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        var created = await gateway.SendAsync(post);

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("true", read.Complete);
        Assert.Equal("5", read.Data.GetProperty("profile").GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("""{"created":true}""", created.Body);
        Assert.Equal(["GET /users/5", "POST /api/x/5"], downstream.Requests.Select(r => $"{r.Method} {r.RawTarget}"));
    }
}
