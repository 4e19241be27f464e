using System.Net;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Gateway.IntegrationTests.OpenApi;

/// <summary>
/// What <c>/openapi/v1.json</c> costs: generated once and served from memory until the routes change, and under
/// <c>MaxConcurrentRequests</c> like the gateway's traffic, so asking for it in a loop cannot take the gateway down.
/// </summary>
public sealed class OpenApiDocumentCostTests
{
    private static readonly Uri Nowhere = new("http://127.0.0.1:9/");

    [Fact]
    public async Task Document_ManyRequests_GeneratedOnceAndTheSameBytesServed()
    {
        var generations = new CountingFilter();
        var config = new GatewayConfig()
            .Cluster("users", Nowhere)
            .Aggregate("agg", "/agg/{id}", a => a.Source("profile", "users", "/users/{id}", required: true))
            .Route("files", "users", "/files/{**rest}", methods: ["GET"]);
        await using var gateway = await TestGateway.StartAsync(config, configureBuilder: b =>
            b.Services.ConfigureSwaggerGen(o => o.AddDocumentFilterInstance(generations)));

        // A burst of first requests, then one after another.
        var first = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => gateway.GetAsync("/openapi/v1.json")));
        var bodies = first.ToList();
        for (var i = 0; i < 30; i++)
        {
            bodies.Add(await gateway.GetAsync("/openapi/v1.json"));
        }

        Assert.All(bodies, b => Assert.Equal(HttpStatusCode.OK, b.StatusCode));
        Assert.Single(bodies.Select(b => b.Body).Distinct());
        Assert.NotNull(JsonNode.Parse(bodies[0].Body)!["paths"]!["/agg/{id}"]);
        Assert.Equal(1, generations.Count);
    }

    [Fact]
    public async Task Document_RoutesReloaded_GeneratedAgainWithTheNewRoute()
    {
        var generations = new CountingFilter();
        var config = new GatewayConfig()
            .Cluster("users", Nowhere)
            .Route("files", "users", "/files/{**rest}", methods: ["GET"]);
        await using var gateway = await TestGateway.StartAsync(config, configureBuilder: b =>
        {
            b.Configuration.AddInMemoryCollection();
            b.Services.ConfigureSwaggerGen(o => o.AddDocumentFilterInstance(generations));
        });
        var before = await gateway.GetAsync("/openapi/v1.json");
        Assert.Null(JsonNode.Parse(before.Body)!["paths"]!["/late/{id}"]);

        // YARP reloads its routes when the configuration does; the document follows.
        var configuration = (IConfigurationRoot)gateway.Services.GetRequiredService<IConfiguration>();
        configuration["ReverseProxy:Routes:late:ClusterId"] = "users";
        configuration["ReverseProxy:Routes:late:Match:Path"] = "/late/{id}";
        configuration.Reload();

        var after = await Poll.UntilAsync(() => gateway.GetAsync("/openapi/v1.json"), a => JsonNode.Parse(a.Body)!["paths"]!["/late/{id}"] is not null, "the reloaded route in the document");
        Assert.NotNull(JsonNode.Parse(after.Body)!["paths"]!["/files/{rest}"]);
        await gateway.GetAsync("/openapi/v1.json");
        Assert.Equal(2, generations.Count);
    }

    [Fact]
    public async Task Document_MaxConcurrentRequestsAllHeld_ShedWith503LikeTheGatewaysTraffic()
    {
        await Warmup.EnsureAsync();
        var release = new Signal();
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/users/{id}", d.HeldJson(release, """{"ok":true}""", TimeSpan.FromSeconds(15))));
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Downstream("users", timeout: TimeSpan.FromSeconds(15))
            .Aggregate("profile", "/profile/{id}", a => a.Source("user", "users", "/users/{id}", required: true), timeout: TimeSpan.FromSeconds(20));
        config.Gateway["RateLimiting"] = new JsonObject { ["MaxConcurrentRequests"] = 1 };
        await using var gateway = await TestGateway.StartAsync(config);

        var held = gateway.GetAsync("/profile/held");
        await downstream.WaitForRequestAsync("/users/held");
        var shed = await gateway.GetAsync("/openapi/v1.json");
        var live = await gateway.GetAsync("/health/live");
        release.Set();
        Assert.Equal(HttpStatusCode.OK, (await held.WaitAsync(Signal.Patience)).StatusCode);
        var afterwards = await gateway.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, shed.StatusCode);
        Assert.Equal("application/problem+json", shed.ContentType);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, afterwards.StatusCode);
    }

    private sealed class CountingFilter : IDocumentFilter
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Apply(OpenApiDocument swaggerDoc, DocumentFilterContext context) => Interlocked.Increment(ref _count);
    }
}
