using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Proxy;

/// <summary>
/// One circuit breaker per cluster: failures seen through a pass-through route open it for the aggregates
/// that call the same cluster, and an open circuit answers a route with 503 without calling the downstream.
/// </summary>
public sealed class SharedCircuitBreakerTests
{
    [Fact]
    public async Task RouteFailuresOpenTheCircuit_AggregateAndRouteOnTheSameCluster_Answer503WithoutCallingTheDownstream()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/orders/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"error":"boom"}""", StatusCodes.Status500InternalServerError));
            app.MapGet("/summary/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
        });
        var config = new GatewayConfig()
            .Cluster("orders", downstream.BaseAddress)
            .CircuitBreaker("orders", failureRatio: 0.5, minimumThroughput: 2, samplingDuration: TimeSpan.FromSeconds(30), breakDuration: TimeSpan.FromSeconds(30))
            .Route("orders", "orders", "/orders/{**rest}")
            .Aggregate("summary", "/api/summary/{id}", a => a.Source("summary", "orders", "/summary/{id}", required: true));
        await using var gateway = await TestGateway.StartAsync(config);

        var failures = new[] { await gateway.GetAsync("/orders/1"), await gateway.GetAsync("/orders/2") };
        var aggregate = await gateway.GetAsync("/api/summary/1");
        var route = await gateway.GetAsync("/orders/3");

        // The downstream's 500s pass through while the circuit is closed.
        Assert.All(failures, f => Assert.True(f.StatusCode == HttpStatusCode.InternalServerError && f.Body == """{"error":"boom"}""", f.ToString()));

        Assert.True(aggregate.StatusCode == HttpStatusCode.ServiceUnavailable, aggregate.ToString());
        Assert.Equal("circuit_open", aggregate.ErrorKind("summary"));
        AssertRetryAfterWithinBreak(aggregate);

        Assert.True(route.StatusCode == HttpStatusCode.ServiceUnavailable, route.ToString());
        Assert.Equal("application/problem+json", route.ContentType);
        Assert.Equal(503, route.Root.GetProperty("status").GetInt32());
        AssertRetryAfterWithinBreak(route);

        // Only the two failing route calls reached the downstream.
        Assert.Equal(["/orders/1", "/orders/2"], downstream.Requests.Select(r => r.Path));
    }

    private static void AssertRetryAfterWithinBreak(AggregateAnswer answer)
    {
        var retryAfter = answer.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is { } delay && delay > TimeSpan.Zero && delay <= TimeSpan.FromSeconds(30), $"Retry-After: {answer.Headers.RetryAfter}; {answer}");
    }
}
