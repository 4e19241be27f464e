using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Downstream;

/// <summary>Aggregate calls are balanced by the cluster's YARP policy, on the in-flight counts routes use too.</summary>
public sealed class BalancingTests
{
    [Fact]
    public async Task Get_TwoDestinationsWithTheDefaultPolicy_BothReceiveCalls()
    {
        await using var first = await StartAsync("first", release: null);
        await using var second = await StartAsync("second", release: null);
        var config = new GatewayConfig()
            .Cluster("items", ("a", first.BaseAddress), ("b", second.BaseAddress))
            .Aggregate("agg", "/agg/{id}", a => a.Source("item", "items", "/fast/{id}", required: true));
        await using var gateway = await TestGateway.StartAsync(config);

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync($"/agg/{i}")).StatusCode);
        }

        // PowerOfTwoChoices with nothing in flight picks at random: one destination getting all 50 has odds of 2^-49.
        Assert.NotEmpty(first.RequestsTo("/fast"));
        Assert.NotEmpty(second.RequestsTo("/fast"));
        Assert.Equal(50, first.RequestsTo("/fast").Count + second.RequestsTo("/fast").Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Get_LeastRequestsWhileOneDestinationHoldsRequests_NewCallsGoToTheOther(bool routeHolds)
    {
        // Routes (YARP's forwarder) and aggregate calls (the gateway's client) count in the same in-flight
        // counters: whichever holds requests at A, the other's next calls go to B.
        var releaseA = new Signal();
        var releaseB = new Signal();
        await using var a = await StartAsync("a", releaseA);
        await using var b = await StartAsync("b", releaseB);
        var config = new GatewayConfig()
            .Cluster("items", ("a", a.BaseAddress), ("b", b.BaseAddress))
            .LoadBalancing("items", "LeastRequests")
            .PrefixRoute("proxy", "items", "/proxy")
            .Aggregate("hold", "/agg/hold/{n}", s => s.Source("item", "items", "/hold/{n}", required: true, timeout: TimeSpan.FromSeconds(20)),
                timeout: TimeSpan.FromSeconds(20))
            .Aggregate("fast", "/agg/fast/{n}", s => s.Source("item", "items", "/fast/{n}", required: true));
        await using var gateway = await TestGateway.StartAsync(config);
        var (holding, following) = routeHolds ? ("/proxy", "/agg") : ("/agg", "/proxy");
        try
        {
            // Six held requests, each in flight before the next: LeastRequests alternates, three each.
            var held = new List<Task<AggregateAnswer>>();
            for (var n = 1; n <= 6; n++)
            {
                held.Add(gateway.GetAsync($"{holding}/hold/{n}"));
                var path = $"/hold/{n}";
                await await Task.WhenAny(a.WaitForRequestAsync(path), b.WaitForRequestAsync(path));
            }

            Assert.Equal(3, a.RequestsTo("/hold").Count);
            Assert.Equal(3, b.RequestsTo("/hold").Count);

            // B's finish: A alone has 3 in flight.
            releaseB.Set();
            foreach (var request in b.RequestsTo("/hold"))
            {
                await gateway.WaitForHandledAsync(holding + request.Path);
            }

            for (var i = 0; i < 5; i++)
            {
                var answer = await gateway.GetAsync($"{following}/fast/{i}");
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
                Assert.Contains("\"from\":\"b\"", answer.Body, StringComparison.Ordinal);
            }

            Assert.Empty(a.RequestsTo("/fast"));
            releaseA.Set();
            Assert.All(await Task.WhenAll(held), h => Assert.Equal(HttpStatusCode.OK, h.StatusCode));
        }
        finally
        {
            releaseA.Set();
            releaseB.Set();
        }
    }

    /// <summary>A destination named <paramref name="name"/>: <c>/fast/{id}</c> answers at once, <c>/hold/{n}</c> once released.</summary>
    private static Task<TestDownstream> StartAsync(string name, Signal? release) => TestDownstream.StartAsync((app, d) =>
    {
        app.MapGet("/fast/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, $$"""{"from":"{{name}}"}"""));
        app.MapGet("/hold/{n}", d.HeldJson(release, $$"""{"from":"{{name}}"}"""));
    });
}
