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
