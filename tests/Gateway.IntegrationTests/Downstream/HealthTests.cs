using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;

namespace Gateway.IntegrationTests.Downstream;

/// <summary>Aggregate calls see the destinations YARP's health checks left available.</summary>
public sealed class HealthTests
{
    [Fact]
    public async Task Get_DestinationFailsActiveHealthCheck_GetsNoAggregateCallsOnceMarked()
    {
        await using var sick = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/health", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}", StatusCodes.Status500InternalServerError));
            app.MapGet("/items/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"from":"sick"}"""));
        });
        await using var healthy = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/health", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
            app.MapGet("/items/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"from":"healthy"}"""));
        });
        // FirstAlphabetical: without health checks every call would go to "a", the sick one.
        var config = new GatewayConfig()
            .Cluster("items", ("a", sick.BaseAddress), ("b", healthy.BaseAddress))
            .LoadBalancing("items", "FirstAlphabetical")
            .ActiveHealthCheck("items", interval: TimeSpan.FromMilliseconds(200), timeout: TimeSpan.FromSeconds(1), path: "/health")
            .Aggregate("agg", "/agg/{id}", a => a.Source("item", "items", "/items/{id}", required: true));
        await using var gateway = await TestGateway.StartAsync(config);

        await Poll.UntilAsync(() => AvailableDestinations(gateway, "items") is ["b"], "YARP marking destination 'a' unhealthy");
        for (var i = 0; i < 10; i++)
        {
            var answer = await gateway.GetAsync($"/agg/{i}");
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal("healthy", answer.Data.GetProperty("item").GetProperty("from").GetString());
        }

        Assert.Empty(sick.RequestsTo("/items"));
        Assert.Equal(10, healthy.RequestsTo("/items").Count);
    }

    [Fact]
    public async Task Get_DestinationRefusesConnections_PassiveHealthTakesItOutAndCallsGoToTheOther()
    {
        await using var healthy = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/items/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"from":"healthy"}""")));
        var closed = new Uri($"http://127.0.0.1:{Ports.Closed()}/");
        // TransportFailureRate judges a destination once it has 10 requests in its 60 s window; the
        // reactivation period is long enough that "a" stays out for the whole test.
        var config = new GatewayConfig()
            .Cluster("items", ("a", closed), ("b", healthy.BaseAddress))
            .LoadBalancing("items", "FirstAlphabetical")
            .PassiveHealthCheck("items", reactivationPeriod: TimeSpan.FromMinutes(5), failureRateLimit: 0.5)
            .Aggregate("agg", "/agg/{id}", a => a.Source("item", "items", "/items/{id}", required: true));
        await using var gateway = await TestGateway.StartAsync(config);

        var failures = 0;
        var answer = await Poll.UntilAsync(
            async () =>
            {
                var a = await gateway.GetAsync($"/agg/probe{failures}");
                if (a.StatusCode != HttpStatusCode.OK)
                {
                    Assert.Equal("unavailable", a.ErrorKind("item"));
                    failures++;
                }

                return a;
            },
            a => a.StatusCode == HttpStatusCode.OK,
            "passive health taking destination 'a' out");

        Assert.Equal(["b"], AvailableDestinations(gateway, "items"));
        Assert.InRange(failures, 10, 30);
        var before = healthy.RequestsTo("/items").Count;
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync($"/agg/after{i}")).StatusCode);
        }

        Assert.Equal(before + 10, healthy.RequestsTo("/items").Count);
    }

    private static string[] AvailableDestinations(TestGateway gateway, string cluster)
    {
        Assert.True(gateway.Services.GetRequiredService<IProxyStateLookup>().TryGetCluster(cluster, out var state));
        return [.. state.DestinationsState.AvailableDestinations.Select(d => d.DestinationId).Order(StringComparer.Ordinal)];
    }
}
