using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Limits;

/// <summary>
/// Envelopes are never cached nor sniffed; no answer names the server software, the gateway's or a downstream's, nor
/// the host behind a route; a client's <c>X-Real-IP</c> stops at the gateway.
/// </summary>
public sealed class ResponseHeaderTests
{
    [Fact]
    public async Task Answers_EnvelopeProblemRouteAndNotFound_SecurityHeadersAndNoServer()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await TestDownstream.StartAsync((app, _) =>
            app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"ok":true}""")));
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate("profile", "/profile/{id}", a => a.Source("user", "users", "/users/{id}?q={q}", required: true))
            .PrefixRoute("users", "users", "/proxy");
        await using var gateway = await TestGateway.StartAsync(config);
        using var direct = new HttpClient { BaseAddress = downstream.BaseAddress };

        var envelope = await gateway.GetAsync("/profile/1?q=x");
        var missingValue = await gateway.GetAsync("/profile/1");
        var routed = await gateway.GetAsync("/proxy/users/1");
        var notFound = await gateway.GetAsync("/nothing/here");
        using var fromDownstream = await direct.GetAsync(new Uri("/users/1", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, envelope.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, missingValue.StatusCode);
        foreach (var answer in new[] { envelope, missingValue })
        {
            Assert.True(answer.Headers.CacheControl?.NoStore);
            Assert.Equal(["nosniff"], answer.Headers.GetValues("X-Content-Type-Options"));
        }

        // The downstream does send one (Kestrel's default); the route must not pass it on.
        Assert.NotEmpty(fromDownstream.Headers.Server);
        Assert.Equal(HttpStatusCode.OK, routed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        foreach (var answer in new[] { envelope, missingValue, routed, notFound })
        {
            Assert.Empty(answer.Headers.Server);
        }
    }

    [Fact]
    public async Task Route_DownstreamNamesItsSoftwareAndHost_HeadersRemovedAndClientsRealIpNotForwarded()
    {
        await using var downstream = await TestDownstream.StartAsync((app, _) =>
            app.MapGet("/users/{id}", (HttpContext c) =>
            {
                c.Response.Headers["X-Powered-By"] = "PHP/5.6.40";
                c.Response.Headers["X-AspNet-Version"] = "4.0.30319";
                c.Response.Headers["X-Backend-Server"] = "users-7f9c.internal:8080";
                c.Response.Headers.Via = "1.1 users-lb.internal";
                c.Response.Headers["X-Downstream"] = "kept";
                return TestDownstream.WriteJsonAsync(c, """{"ok":true}""");
            }));
        var config = new GatewayConfig().Cluster("users", downstream.BaseAddress).PrefixRoute("users", "users", "/proxy");
        await using var gateway = await TestGateway.StartAsync(config);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/proxy/users/1", UriKind.Relative));
        request.Headers.Add("X-Real-IP", "10.0.0.1");
        var routed = await gateway.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, routed.StatusCode);
        foreach (var header in new[] { "X-Powered-By", "X-AspNet-Version", "X-Backend-Server", "Via" })
        {
            Assert.False(routed.Headers.Contains(header), $"{header} passed through the route");
        }

        // The downstream's other headers still pass.
        Assert.Equal(["kept"], routed.Headers.GetValues("X-Downstream"));
        var received = Assert.Single(downstream.Requests);
        Assert.False(received.Headers.ContainsKey("X-Real-IP"), "the client's X-Real-IP reached the downstream");
        // Where the request came from is still said, by the gateway.
        Assert.Equal("127.0.0.1", received.Headers["X-Forwarded-For"]);
    }
}
