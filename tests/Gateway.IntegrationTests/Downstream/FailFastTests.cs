using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Downstream;

/// <summary>Once a required source has failed, the answer is decided: fail-fast does not wait for the rest.</summary>
public sealed class FailFastTests
{
    [Fact]
    public async Task Get_RequiredFailsWhileOptionalHangs_Answers502AtOnceAndCancelsTheOptionalCall()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await StartAsync();
        var config = new GatewayConfig()
            .Cluster("svc", downstream.BaseAddress)
            .Aggregate("agg", "/agg", s => s
                .Source("main", "svc", "/fail", required: true)
                .Source("extra", "svc", "/hang", timeout: TimeSpan.FromSeconds(5)),
                timeout: TimeSpan.FromSeconds(10));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg");

        Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
        Assert.True(answer.Elapsed < TimeSpan.FromSeconds(2.5), $"answered after {answer.Elapsed}, the optional source's timeout is 5 s");
        Assert.Equal("http_status", answer.ErrorKind("main"));
        Assert.Equal("cancelled", answer.ErrorKind("extra"));
        var hanging = Assert.Single(downstream.RequestsTo("/hang"));
        await hanging.Aborted.WaitAsync(Signal.Patience);
    }

    [Fact]
    public async Task Get_FailFastOff_AnswerWaitsForTheOptionalSourceTimeout()
    {
        await using var downstream = await StartAsync();
        var config = new GatewayConfig()
            .Cluster("svc", downstream.BaseAddress)
            .Aggregate("agg", "/agg", s => s
                .Source("main", "svc", "/fail", required: true)
                .Source("extra", "svc", "/hang", timeout: TimeSpan.FromSeconds(1)),
                timeout: TimeSpan.FromSeconds(10), failFast: false);
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg");

        Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
        Assert.True(answer.Elapsed >= TimeSpan.FromMilliseconds(900), $"answered after {answer.Elapsed}, before the optional source's 1 s timeout");
        Assert.Equal("http_status", answer.ErrorKind("main"));
        Assert.Equal("timeout", answer.ErrorKind("extra"));
    }

    /// <summary><c>/fail</c> answers 500 once <c>/hang</c> has arrived, so that the hanging call is surely in flight.</summary>
    private static Task<TestDownstream> StartAsync() => TestDownstream.StartAsync((app, d) =>
    {
        app.MapGet("/hang", (HttpContext c) => d.HangAsync(c));
        app.MapGet("/fail", async (HttpContext c) =>
        {
            await d.WaitForRequestAsync("/hang");
            await TestDownstream.WriteJsonAsync(c, "{}", StatusCodes.Status500InternalServerError);
        });
    });
}
