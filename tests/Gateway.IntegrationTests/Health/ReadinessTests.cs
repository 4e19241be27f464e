using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Health;

/// <summary>
/// <c>/health/ready</c> follows the clusters' available destinations; <c>/health/live</c> does not. Readiness is
/// logged once per change of state, not per probe.
/// </summary>
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
        // Everything at Information, so that ASP.NET Core's own per-probe lines would show if they were written.
        config.Root["Logging"]!["LogLevel"]!["Default"] = "Information";
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

        // More failing probes: still the one line.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await gateway.GetAsync("/health/ready")).StatusCode);
        }

        var notReadyLine = Assert.Single(gateway.Log, e => e.EventName == "NotReady");
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, notReadyLine.Level);
        Assert.Contains("clusters: Unhealthy", notReadyLine.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(gateway.Log, e => e.Category.StartsWith("Microsoft.Extensions.Diagnostics.HealthChecks", StringComparison.Ordinal));

        Volatile.Write(ref healthy, true);
        await Poll.UntilAsync(() => gateway.GetAsync("/health/ready"), a => a.StatusCode == HttpStatusCode.OK, "ready again once the destination recovers");
        Assert.Single(gateway.Log, e => e.EventName == "ReadyAgain");
        Assert.Single(gateway.Log, e => e.EventName == "NotReady");
    }
}
