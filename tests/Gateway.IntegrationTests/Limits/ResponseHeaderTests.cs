using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Limits;

/// <summary>Envelopes are never cached nor sniffed; no answer names the server software, the gateway's or a downstream's.</summary>
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
}
