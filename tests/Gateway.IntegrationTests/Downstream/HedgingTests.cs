using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Downstream;

/// <summary>Hedging across the destinations of a cluster: the first answer wins, the loser is cancelled.</summary>
public sealed class HedgingTests
{
    [Fact]
    public async Task Get_FirstDestinationHangs_HedgeToTheOtherAnswersAndTheLoserIsAborted()
    {
        await Warmup.EnsureAsync();
        await using var hanging = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/items/{id}", (HttpContext c) => d.HangAsync(c)));
        await using var answering = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/items/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"id":7}""")));
        // FirstAlphabetical: the first attempt always goes to "a", the hanging one.
        var config = new GatewayConfig()
            .Cluster("items", ("a", hanging.BaseAddress), ("b", answering.BaseAddress))
            .LoadBalancing("items", "FirstAlphabetical")
            .Resilience("items", r => r.Hedging(TimeSpan.FromMilliseconds(100)))
            .Aggregate("agg", "/agg/{id}", a => a.Source("item", "items", "/items/{id}", required: true, timeout: TimeSpan.FromSeconds(5)));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/7");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(7, answer.Data.GetProperty("item").GetProperty("id").GetInt32());
        Assert.Equal(2, answer.SourceMeta("item").GetProperty("attempts").GetInt32());
        Assert.True(answer.Elapsed < TimeSpan.FromSeconds(2.5), $"answered after {answer.Elapsed}, the source timeout is 5 s");
        var loser = Assert.Single(hanging.RequestsTo("/items/7"));
        await loser.Aborted.WaitAsync(Signal.Patience);
        Assert.Single(answering.RequestsTo("/items/7"));
    }
}
