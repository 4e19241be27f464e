using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Gateway.IntegrationTests.Downstream;

/// <summary>Stopping the gateway ends the calls still running once the drain is over, as a refusal the client can retry elsewhere.</summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task Get_GatewayStopsDuringACallThatOutlastsTheDrain_CallEndsCancelledWith503AndNothingIsLoggedAsError()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/hang", (HttpContext c) => d.HangAsync(c)));
        var config = new GatewayConfig()
            .Cluster("svc", downstream.BaseAddress)
            .Aggregate("agg", "/agg", s => s.Source("slow", "svc", "/hang", required: true, timeout: TimeSpan.FromSeconds(20)),
                timeout: TimeSpan.FromSeconds(20));
        // Shorter than the test host's 2 s shutdown timeout, so that the drain cuts the call, not the host.
        config.Gateway["Shutdown"] = new System.Text.Json.Nodes.JsonObject { ["DrainTimeout"] = "500ms" };
        await using var gateway = await TestGateway.StartAsync(config);

        var pending = gateway.GetAsync("/agg");
        var call = await downstream.WaitForRequestAsync("/hang");
        var stopping = gateway.StopAsync();
        var answer = await pending.WaitAsync(Signal.Patience);
        await stopping.WaitAsync(Signal.Patience);

        // The drain's end cancels the fan-out; Kestrel then lets the answer out before closing.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
        Assert.NotNull(answer.Headers.RetryAfter);
        Assert.Equal("cancelled", answer.ErrorKind("slow"));
        Assert.Contains("shutting down", answer.Error("slow").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(answer.Elapsed < TimeSpan.FromSeconds(10), $"answered after {answer.Elapsed}");
        await call.Aborted.WaitAsync(Signal.Patience);
        Assert.DoesNotContain(gateway.Log, e => e.Level >= LogLevel.Error);
    }
}
