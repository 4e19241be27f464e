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

    [Fact]
    public async Task Get_LeastRequestsWhileOneDestinationHoldsProxiedRequests_AggregateCallsGoToTheOther()
    {
        var releaseA = new Signal();
        var releaseB = new Signal();
        await using var a = await StartAsync("a", releaseA);
        await using var b = await StartAsync("b", releaseB);
        var config = new GatewayConfig()
            .Cluster("items", ("a", a.BaseAddress), ("b", b.BaseAddress))
            .LoadBalancing("items", "LeastRequests")
            .Route("proxy", "items", "/proxy")
            .Aggregate("agg", "/agg/{id}", s => s.Source("item", "items", "/fast/{id}", required: true));
        await using var gateway = await TestGateway.StartAsync(config);
        try
        {
            // Six proxied requests, each in flight before the next: LeastRequests alternates, three each.
            var proxied = new List<Task<AggregateAnswer>>();
            for (var n = 1; n <= 6; n++)
            {
                proxied.Add(gateway.GetAsync($"/proxy/hold/{n}"));
                var path = $"/hold/{n}";
                await await Task.WhenAny(a.WaitForRequestAsync(path), b.WaitForRequestAsync(path));
            }

            Assert.Equal(3, a.RequestsTo("/hold").Count);
            Assert.Equal(3, b.RequestsTo("/hold").Count);

            // B's finish: A alone has 3 in flight, all of them made by the route.
            releaseB.Set();
            foreach (var request in b.RequestsTo("/hold"))
            {
                await gateway.WaitForHandledAsync("/proxy" + request.Path);
            }

            for (var i = 0; i < 5; i++)
            {
                var answer = await gateway.GetAsync($"/agg/{i}");
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
                Assert.Equal("b", answer.Data.GetProperty("item").GetProperty("from").GetString());
            }

            Assert.Empty(a.RequestsTo("/fast"));
            releaseA.Set();
            Assert.All(await Task.WhenAll(proxied), p => Assert.Equal(HttpStatusCode.OK, p.StatusCode));
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
        app.MapGet("/hold/{n}", async (HttpContext c) =>
        {
            await d.HoldAsync(c, release);
            await TestDownstream.WriteJsonAsync(c, $$"""{"from":"{{name}}"}""");
        });
    });
}
