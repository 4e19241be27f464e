using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Gateway.IntegrationTests.Downstream;

/// <summary>A cluster's <c>HttpRequest:ActivityTimeout</c> (YARP's idle timeout) bounds each attempt of an aggregate call.</summary>
public sealed class ActivityTimeoutTests
{
    [Fact]
    public async Task Get_DestinationSilentPastActivityTimeout_SourceTimesOutWithoutAnErrorLog()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/hang", (HttpContext c) => d.HangAsync(c)));
        var config = new GatewayConfig()
            .Cluster("svc", downstream.BaseAddress)
            .ActivityTimeout("svc", TimeSpan.FromMilliseconds(300))
            .Aggregate("agg", "/agg", s => s.Source("slow", "svc", "/hang", required: true, timeout: TimeSpan.FromSeconds(5)));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg");

        Assert.Equal(HttpStatusCode.GatewayTimeout, answer.StatusCode);
        Assert.Equal("timeout", answer.ErrorKind("slow"));
        Assert.True(answer.Elapsed < TimeSpan.FromSeconds(2.5), $"answered after {answer.Elapsed}, the source timeout is 5 s");
        await Assert.Single(downstream.RequestsTo("/hang")).Aborted.WaitAsync(Signal.Patience);
        Assert.DoesNotContain(gateway.Log, e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task Get_ActivityTimeoutFires_AttemptIsRetried()
    {
        var hits = 0;
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/item", (HttpContext c) => Interlocked.Increment(ref hits) == 1 ? d.HangAsync(c) : TestDownstream.WriteJsonAsync(c, "{}")));
        var config = new GatewayConfig()
            .Cluster("svc", downstream.BaseAddress)
            .ActivityTimeout("svc", TimeSpan.FromMilliseconds(300))
            .Resilience("svc", r => r.Retry(maxRetryAttempts: 1, delay: TimeSpan.FromMilliseconds(10)))
            .Aggregate("agg", "/agg", s => s.Source("item", "svc", "/item", required: true, timeout: TimeSpan.FromSeconds(5)));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(2, answer.SourceMeta("item").GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task Get_CallsCancelledByFailFast_DoNotCountAgainstPassiveHealth()
    {
        // With an ActivityTimeout set (shorter than the source timeout, so that it applies), a call the gateway itself cancels (fail-fast here; a hedge that lost,
        // a client that left) says nothing about the destination and must not take it out.
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/hang/{n}", (HttpContext c) => d.HangAsync(c));
            app.MapGet("/fail/{n}", async (HttpContext c) =>
            {
                await d.WaitForRequestAsync("/hang/" + c.Request.RouteValues["n"]);
                await TestDownstream.WriteJsonAsync(c, "{}", StatusCodes.Status500InternalServerError);
            });
        });
        var config = new GatewayConfig()
            .Cluster("main", downstream.BaseAddress)
            .Cluster("svc", downstream.BaseAddress)
            .ActivityTimeout("svc", TimeSpan.FromSeconds(3))
            .PassiveHealthCheck("svc", reactivationPeriod: TimeSpan.FromMinutes(5))
            .Aggregate("agg", "/agg/{n}", s => s
                .Source("main", "main", "/fail/{n}", required: true)
                .Source("extra", "svc", "/hang/{n}", timeout: TimeSpan.FromSeconds(5)),
                timeout: TimeSpan.FromSeconds(10));
        await using var gateway = await TestGateway.StartAsync(config);

        for (var n = 0; n < 12; n++)
        {
            var answer = await gateway.GetAsync($"/agg/{n}");
            Assert.Equal("cancelled", answer.ErrorKind("extra"));
            await Assert.Single(downstream.RequestsTo($"/hang/{n}")).Aborted.WaitAsync(Signal.Patience);
        }

        Assert.True(gateway.Services.GetRequiredService<IProxyStateLookup>().TryGetCluster("svc", out var cluster));
        // (YARP would still hand out a lone destination marked unhealthy: its health is what tells.)
        Assert.NotEqual(DestinationHealth.Unhealthy, Assert.Single(cluster.DestinationsState.AllDestinations).Health.Passive);
    }
}
