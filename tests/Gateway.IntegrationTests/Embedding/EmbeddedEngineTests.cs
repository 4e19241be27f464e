using System.Net;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.IntegrationTests.Embedding;

/// <summary>
/// The engine inside an app of its own (services.AddGateway(section), app.MapGateway()): its clusters come from YARP's
/// state (here <c>LoadFromMemory</c>, no <c>ReverseProxy</c> section), and the app's configuration sources, global
/// rate limiter and default CORS policy stay the app's.
/// </summary>
public sealed class EmbeddedEngineTests
{
    private const string ProfileJson = """{"id":"7"}""";

    [Fact]
    public async Task Embedded_CodeDefinedCluster_ServesTheConfiguredAggregate_AndLeavesTheAppsSourcesLimiterAndCorsAlone()
    {
        await using var downstream = await TestDownstream.StartAsync((app, _) =>
            app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, ProfileJson)));
        var builder = NewApp(downstream.BaseAddress);
        var sources = builder.Configuration.Sources.Count;

        builder.Services.AddGateway(builder.Configuration.GetSection("Gateway"));
        await using var app = builder.Build();
        app.MapReverseProxy();
        app.MapGateway();
        await app.StartAsync();

        Assert.Equal(sources, builder.Configuration.Sources.Count);
        Assert.Null(app.Services.GetRequiredService<IOptions<RateLimiterOptions>>().Value.GlobalLimiter);
        var cors = app.Services.GetRequiredService<IOptions<CorsOptions>>().Value;
        Assert.Null(cors.GetPolicy(cors.DefaultPolicyName));

        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        using var response = await client.GetAsync("/profiles/7");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var envelope = JsonDocument.Parse(body);
        Assert.Equal(ProfileJson, envelope.RootElement.GetProperty("data").GetProperty("user").GetRawText());
        await app.StopAsync();
    }

    [Fact]
    public async Task Embedded_YarpsEndpointsNeverMapped_RefusesToStart_SayingWhatToCall()
    {
        var builder = NewApp(new Uri("http://127.0.0.1:1/"));
        builder.Services.AddGateway(builder.Configuration.GetSection("Gateway"));
        await using var app = builder.Build();
        app.MapGateway();

        var refused = await Assert.ThrowsAsync<GatewayConfigurationException>(() => app.StartAsync());

        Assert.Contains("app.MapReverseProxy()", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Embedded_RedisNamedWithoutTheSharingPackage_RefusesToStart_NamingTheKey()
    {
        var builder = NewApp(new Uri("http://127.0.0.1:1/"));
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Gateway:Cache:Redis"] = "127.0.0.1:1" });
        builder.Services.AddGateway(builder.Configuration.GetSection("Gateway")).AddCachedData();
        await using var app = builder.Build();
        app.MapReverseProxy();
        app.MapGateway();

        var refused = await Assert.ThrowsAsync<GatewayConfigurationException>(() => app.StartAsync());

        Assert.StartsWith("Gateway configuration is invalid:", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Cache:Redis: set, but nothing shares through it", refused.Message, StringComparison.Ordinal);
        Assert.Contains("AddRedisSharing()", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddGateway_TheWholeConfigurationInsteadOfTheSection_RefusedAtOnce()
    {
        var builder = NewApp(new Uri("http://127.0.0.1:1/"));

        var refused = Assert.Throws<ArgumentException>(() => builder.Services.AddGateway(builder.Configuration));

        Assert.Contains("GetSection(\"Gateway\")", refused.Message, StringComparison.Ordinal);
    }

    private static WebApplicationBuilder NewApp(Uri users)
    {
        // A content root of its own: the test folder's appsettings.json (the gateway's demo) is not this app's.
        var root = Directory.CreateTempSubdirectory("embedded-app-").FullName;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "IntegrationTest", ContentRootPath = root });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Aggregates:profile:Route"] = "/profiles/{id}",
            ["Gateway:Aggregates:profile:Sources:user:Cluster"] = "users",
            ["Gateway:Aggregates:profile:Sources:user:Path"] = "/users/{id}",
            ["Gateway:Aggregates:profile:Sources:user:Required"] = "true",
        });
        builder.Services.AddReverseProxy().LoadFromMemory([], [new ClusterConfig
        {
            ClusterId = "users",
            Destinations = new Dictionary<string, DestinationConfig> { ["one"] = new() { Address = users.ToString() } },
        }]);
        return builder;
    }
}
