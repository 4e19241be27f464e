using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Downstream;

/// <summary>A call that waits for a concurrency slot says so in meta, and a timeout while waiting says where it was.</summary>
public sealed class QueueTests
{
    [Fact]
    public async Task Get_SecondCallWaitsForTheOnlySlot_MetaReportsQueuedMs()
    {
        var release = new Signal();
        await using var downstream = await StartAsync(release);
        // Sources start in order ("first" < "second"): "first" takes the only slot, "second" queues behind it.
        var config = new GatewayConfig()
            .Cluster("svc", downstream.BaseAddress)
            .Downstream("svc", maxConcurrency: 1, maxQueue: 1)
            .Aggregate("agg", "/agg", s => s
                .Source("first", "svc", "/hold")
                .Source("second", "svc", "/fast"));
        await using var gateway = await TestGateway.StartAsync(config);

        var pending = gateway.GetAsync("/agg");
        await downstream.WaitForRequestAsync("/hold");
        Assert.Empty(downstream.RequestsTo("/fast"));
        release.Set();
        var answer = await pending;

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.False(answer.SourceMeta("first").TryGetProperty("queuedMs", out _), answer.Body);
        Assert.True(answer.SourceMeta("second").GetProperty("queuedMs").GetInt64() >= 0, answer.Body);
        Assert.Single(downstream.RequestsTo("/fast"));
    }

    [Fact]
    public async Task Get_SourceTimesOutWhileQueued_TimeoutSaysItWasStillQueued()
    {
        var release = new Signal();
        await using var downstream = await StartAsync(release);
        var config = new GatewayConfig()
            .Cluster("svc", downstream.BaseAddress)
            .Downstream("svc", maxConcurrency: 1, maxQueue: 1)
            .Aggregate("agg", "/agg", s => s
                .Source("first", "svc", "/hold", timeout: TimeSpan.FromSeconds(1))
                .Source("second", "svc", "/fast", timeout: TimeSpan.FromMilliseconds(300)));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg");
        release.Set();

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("timeout", answer.ErrorKind("first"));
        Assert.Equal("timeout", answer.ErrorKind("second"));
        Assert.Contains("still queued", answer.Error("second").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(answer.SourceMeta("second").GetProperty("queuedMs").GetInt64() >= 250, answer.Body);
        Assert.Empty(downstream.RequestsTo("/fast"));
    }

    private static Task<TestDownstream> StartAsync(Signal release) => TestDownstream.StartAsync((app, d) =>
    {
        app.MapGet("/hold", d.HeldJson(release));
        app.MapGet("/fast", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
    });
}
