using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests.Proxy;

/// <summary>
/// A path and method have one owner: the built gateway, run as its own process, refuses a route and an
/// aggregate (or two aggregates) that would answer the same requests, exit code 2, naming both keys.
/// </summary>
public sealed class EndpointClashTests : IDisposable
{
    private static readonly Uri Nowhere = new("http://127.0.0.1:9/");
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-clash-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Start_RouteForAnyMethodAndGetAggregateOnTheSamePath_ExitsWith2NamingBoth()
    {
        var config = new GatewayConfig()
            .Cluster("users", Nowhere)
            .Route("users-route", "users", "/api/x/{id}")
            .Aggregate("users-agg", "/api/x/{userId}", a => a.Source("profile", "users", "/users/{userId}"));

        var run = await RunAsync(config);

        AssertRefused(run, "ReverseProxy:Routes:users-route", "Gateway:Aggregates:users-agg");
    }

    // Each feature reserves its own paths (health, scrape, management, OpenAPI); the host refuses an aggregate on one,
    // and only while the feature is on.
    [Theory]
    [InlineData("/health/live", null, "the liveness check")]
    [InlineData("/metrics", "Telemetry", "Gateway:Telemetry:Prometheus")]
    [InlineData("/gateway/cache", "Management", "Gateway:Management")]
    [InlineData("/openapi/v1.json", "OpenApi", "Gateway:OpenApi")]
    public async Task Build_AggregateOnAFeaturesOwnPath_RefusedNamingTheFeatureOnlyWhileItIsOn(string path, string? feature, string owner)
    {
        GatewayConfig Config(bool on)
        {
            var config = new GatewayConfig()
                .Cluster("users", Nowhere)
                .Aggregate("taken", path, a => a.Source("profile", "users", "/users/1"));
            switch (feature)
            {
                case "Telemetry":
                    config.Gateway["Telemetry"] = new System.Text.Json.Nodes.JsonObject { ["Prometheus"] = on };
                    break;
                case "Management":
                    config.Gateway["Management"] = new System.Text.Json.Nodes.JsonObject { ["Enabled"] = on, ["ApiKey"] = "k" };
                    break;
                case "OpenApi":
                    config.Gateway["OpenApi"] = new System.Text.Json.Nodes.JsonObject { ["Enabled"] = on };
                    break;
            }

            return config;
        }

        var refused = await Assert.ThrowsAsync<Gateway.Configuration.GatewayConfigurationException>(async () =>
        {
            await using var started = await TestGateway.StartAsync(Config(on: true));
        });
        Assert.Contains(refused.Errors, e => e.StartsWith("Gateway:Aggregates:taken:", StringComparison.Ordinal) && e.Contains(owner, StringComparison.Ordinal));
        if (feature is not null)
        {
            await using var served = await TestGateway.StartAsync(Config(on: false));
        }
    }

    [Fact]
    public async Task Start_TwoAggregatesOnTheSameRouteAndMethod_ExitsWith2NamingBoth()
    {
        var config = new GatewayConfig()
            .Cluster("users", Nowhere)
            .Aggregate("first", "/api/y/{id}", a => a.Source("profile", "users", "/users/{id}"))
            .Aggregate("second", "/API/y/{userId}", a => a.Source("profile", "users", "/users/{userId}"), method: "get");

        var run = await RunAsync(config);

        AssertRefused(run, "Gateway:Aggregates:first", "Gateway:Aggregates:second");
    }

    private static void AssertRefused(GatewayProcess run, string first, string second)
    {
        Assert.True(run.ExitCode == 2, $"expected exit code 2, got {run.ExitCode}; {run}");
        var clash = run.StandardError.Split('\n').Where(l => l.Contains("already served", StringComparison.Ordinal)).ToList();
        Assert.True(clash.Count == 1, $"expected one clash line; {run}");
        Assert.Contains(first, clash[0], StringComparison.Ordinal);
        Assert.Contains(second, clash[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StandardError, StringComparison.Ordinal);
    }

    private async Task<GatewayProcess> RunAsync(GatewayConfig config)
    {
        var path = Path.Combine(_folder, $"{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, config.ToJson());
        return await GatewayProcess.RunToExitAsync(["--config", path, "--urls", "http://127.0.0.1:0"]);
    }
}
