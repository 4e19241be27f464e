using System.Net;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Limits;

/// <summary><c>Gateway:Cors</c>: preflights and simple requests for aggregates and routes; nothing without it.</summary>
public sealed class CorsTests
{
    private const string Allowed = "https://app.example.test";

    private static async Task<TestDownstream> StartDownstreamAsync() =>
        await TestDownstream.StartAsync((app, _) => app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"ok":true}""")));

    private static GatewayConfig Config(TestDownstream downstream, bool cors)
    {
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate("profile", "/profile/{id}", a => a.Source("user", "users", "/users/{id}", required: true))
            .PrefixRoute("users", "users", "/proxy");
        if (cors)
        {
            config.Gateway["Cors"] = new JsonObject { ["AllowedOrigins"] = new JsonArray(Allowed), ["AllowedHeaders"] = new JsonArray("Authorization") };
        }

        return config;
    }

    private static Task<AggregateAnswer> PreflightAsync(TestGateway gateway, string path, string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, new Uri(path, UriKind.Relative));
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "GET");
        request.Headers.Add("Access-Control-Request-Headers", "authorization");
        return gateway.SendAsync(request);
    }

    private static Task<AggregateAnswer> GetFromAsync(TestGateway gateway, string path, string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Add("Origin", origin);
        return gateway.SendAsync(request);
    }

    private static string? Header(AggregateAnswer answer, string name) =>
        answer.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    [Theory]
    [InlineData("/profile/1")]
    [InlineData("/proxy/users/1")]
    public async Task Preflight_AllowedOrigin_AnsweredByTheGatewayWithItsPolicy(string path)
    {
        await Warmup.EnsureAsync();
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream, cors: true));

        var allowed = await PreflightAsync(gateway, path, Allowed);
        var other = await PreflightAsync(gateway, path, "https://evil.example.test");

        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
        Assert.Equal(Allowed, Header(allowed, "Access-Control-Allow-Origin"));
        Assert.Contains("GET", Header(allowed, "Access-Control-Allow-Methods"), StringComparison.Ordinal);
        Assert.Contains("authorization", Header(allowed, "Access-Control-Allow-Headers"), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("600", Header(allowed, "Access-Control-Max-Age"));
        Assert.Null(Header(other, "Access-Control-Allow-Origin"));
        Assert.Empty(downstream.Requests);
    }

    [Fact]
    public async Task Get_AllowedOrigin_AnswerCarriesTheOriginAndExposedHeaders()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream, cors: true));

        var allowed = await GetFromAsync(gateway, "/profile/1", Allowed);
        var other = await GetFromAsync(gateway, "/profile/2", "https://evil.example.test");

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(Allowed, Header(allowed, "Access-Control-Allow-Origin"));
        Assert.Contains("X-Aggregate-Complete", Header(allowed, "Access-Control-Expose-Headers"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Null(Header(other, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task NoCorsConfigured_NoCorsHeadersAndNoPreflightAnswer()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream, cors: false));

        var get = await GetFromAsync(gateway, "/profile/1", Allowed);
        var preflight = await PreflightAsync(gateway, "/profile/1", Allowed);

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Null(Header(get, "Access-Control-Allow-Origin"));
        Assert.NotEqual(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Null(Header(preflight, "Access-Control-Allow-Origin"));
    }
}
