using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Health;

/// <summary><c>/health/ready</c> follows the clusters' available destinations; <c>/health/live</c> does not.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task Ready_ClusterLosesItsOnlyDestination_503NamingTheClusterUntilItRecovers_LiveStays200()
    {
        var healthy = true;
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/health", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}", Volatile.Read(ref healthy) ? StatusCodes.Status200OK : StatusCodes.Status500InternalServerError));
            app.MapGet("/items/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
        });
        var config = new GatewayConfig()
            .Cluster("items", downstream.BaseAddress)
            .ActiveHealthCheck("items", interval: TimeSpan.FromMilliseconds(200), timeout: TimeSpan.FromSeconds(1), path: "/health")
            .Aggregate("agg", "/agg/{id}", a => a.Source("item", "items", "/items/{id}", required: true));
        await using var gateway = await TestGateway.StartAsync(config);

        var ready = await Poll.UntilAsync(() => gateway.GetAsync("/health/ready"), a => a.StatusCode == HttpStatusCode.OK, "ready with a healthy destination");
        Assert.Equal("Healthy", ready.Root.GetProperty("checks").GetProperty("clusters").GetProperty("status").GetString());
        Assert.Equal("Healthy", ready.Root.GetProperty("checks").GetProperty("configuration").GetProperty("status").GetString());

        Volatile.Write(ref healthy, false);
        var notReady = await Poll.UntilAsync(() => gateway.GetAsync("/health/ready"), a => a.StatusCode == HttpStatusCode.ServiceUnavailable, "not ready once the only destination fails its health check");
        var clusters = notReady.Root.GetProperty("checks").GetProperty("clusters");
        Assert.Equal("Unhealthy", clusters.GetProperty("status").GetString());
        Assert.Contains("items", clusters.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", notReady.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/health/live")).StatusCode);

        Volatile.Write(ref healthy, true);
        await Poll.UntilAsync(() => gateway.GetAsync("/health/ready"), a => a.StatusCode == HttpStatusCode.OK, "ready again once the destination recovers");
    }
}
