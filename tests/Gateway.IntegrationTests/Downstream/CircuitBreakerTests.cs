using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Downstream;

/// <summary>The cluster's circuit breaker, against a real downstream that fails and recovers.</summary>
public sealed class CircuitBreakerTests
{
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Get_DownstreamFailsPastTheThreshold_CircuitOpensWithoutCallingItThenOneProbeClosesIt()
    {
        var failing = 1;
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/items/{id}", (HttpContext c) => Volatile.Read(ref failing) == 1
                ? TestDownstream.WriteJsonAsync(c, """{"error":"boom"}""", StatusCodes.Status500InternalServerError)
                : TestDownstream.WriteJsonAsync(c, """{"ok":true}""")));
        await using var gateway = await TestGateway.StartAsync(BreakerConfig(downstream));

        // MinimumThroughput 4 at FailureRatio 0.5: four failures in a row open the circuit.
        for (var i = 0; i < 4; i++)
        {
            var failed = await gateway.GetAsync($"/agg/{i}");
            Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
            Assert.Equal("http_status", failed.ErrorKind("item"));
        }

        var open = await gateway.GetAsync("/agg/open");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, open.StatusCode);
        Assert.Equal("circuit_open", open.ErrorKind("item"));
        Assert.Equal("1", Assert.Single(open.Headers.GetValues("Retry-After")));
        var whileOpen = await gateway.GetAsync("/agg/open2");
        Assert.Equal("circuit_open", whileOpen.ErrorKind("item"));
        Assert.Equal(4, downstream.RequestsTo("/items").Count);

        // Recovered: once the break is over, the first call is the probe and closes the circuit.
        Volatile.Write(ref failing, 0);
        var polls = 0;
        var probe = await Poll.UntilAsync(() => gateway.GetAsync($"/agg/probe{polls++}"), a => a.StatusCode == HttpStatusCode.OK, "the probe closing the circuit");
        Assert.Equal("ok", probe.Outcome("item"));
        Assert.Equal(5, downstream.RequestsTo("/items").Count);
        for (var i = 0; i < 3; i++)
        {
            var after = await gateway.GetAsync($"/agg/after{i}");
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }

        Assert.Equal(8, downstream.RequestsTo("/items").Count);
    }

    [Fact]
    public async Task Get_DownstreamAnswers404Repeatedly_CircuitStaysClosed()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/items/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"error":"no such item"}""", StatusCodes.Status404NotFound)));
        await using var gateway = await TestGateway.StartAsync(BreakerConfig(downstream));

        for (var i = 0; i < 12; i++)
        {
            var answer = await gateway.GetAsync($"/agg/{i}");
            Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
            Assert.Equal("http_status", answer.ErrorKind("item"));
            Assert.Equal(404, answer.Error("item").GetProperty("status").GetInt32());
        }

        Assert.Equal(12, downstream.RequestsTo("/items").Count);
    }

    [Fact]
    public async Task Get_ProxiedRequestsFailPastTheThreshold_AggregateCallsFindTheSameCircuitOpen()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/items/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}", StatusCodes.Status500InternalServerError)));
        await using var gateway = await TestGateway.StartAsync(BreakerConfig(downstream).PrefixRoute("proxy", "items", "/proxy"));

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.InternalServerError, (await gateway.GetAsync($"/proxy/items/{i}")).StatusCode);
        }

        var answer = await gateway.GetAsync("/agg/1");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
        Assert.Equal("circuit_open", answer.ErrorKind("item"));
        Assert.Equal(4, downstream.RequestsTo("/items").Count);
    }

    private static GatewayConfig BreakerConfig(TestDownstream downstream) => new GatewayConfig()
        .Cluster("items", downstream.BaseAddress)
        .Resilience("items", r => r.CircuitBreaker(failureRatio: 0.5, minimumThroughput: 4, breakDuration: BreakDuration))
        .Aggregate("agg", "/agg/{id}", a => a.Source("item", "items", "/items/{id}", required: true));
}
