using System.Globalization;
using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Downstream;

/// <summary>Deadline propagation: the client's budget shortens the request, the time left goes downstream.</summary>
public sealed class DeadlineTests
{
    private const string BudgetHeader = "X-Request-Budget-Ms";

    [Fact]
    public async Task Get_DependentChain_BudgetSentDownstreamDecreasesAlongIt()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/a", async (HttpContext c) =>
            {
                // Takes a little time, so that the dependent starts with visibly less left.
                await Task.Delay(TimeSpan.FromMilliseconds(50), c.RequestAborted);
                await TestDownstream.WriteJsonAsync(c, """{"next":"x"}""");
            });
            app.MapGet("/b/{next}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
        });
        // The sources inherit the aggregate's 1 s: the deadline, not a source timeout, bounds what is left.
        var config = new GatewayConfig()
            .Cluster("svc", downstream.BaseAddress)
            .Aggregate("agg", "/agg", s => s
                .Source("a", "svc", "/a", required: true)
                .Source("b", "svc", "/b/{a.next}", required: true),
                timeout: TimeSpan.FromSeconds(1));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var first = Budget(Assert.Single(downstream.RequestsTo("/a")));
        var second = Budget(Assert.Single(downstream.RequestsTo("/b/x")));
        Assert.InRange(first, 1, 1000);
        Assert.InRange(second, 1, first - 1);
    }

    [Fact]
    public async Task Get_ClientBudget300Ms_HangingRequiredSourceAnswers504LongBeforeTheAggregateTimeout()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/hang", (HttpContext c) => d.HangAsync(c)));
        var config = new GatewayConfig()
            .Cluster("svc", downstream.BaseAddress)
            .Aggregate("agg", "/agg", s => s.Source("slow", "svc", "/hang", required: true), timeout: TimeSpan.FromSeconds(5));
        await using var gateway = await TestGateway.StartAsync(config);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/agg");
        request.Headers.Add(BudgetHeader, "300");

        var answer = await gateway.SendAsync(request);

        Assert.Equal(HttpStatusCode.GatewayTimeout, answer.StatusCode);
        Assert.Equal("timeout", answer.ErrorKind("slow"));
        Assert.Contains("300 ms", answer.Error("slow").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.InRange(answer.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(2.5));
        var call = Assert.Single(downstream.RequestsTo("/hang"));
        Assert.InRange(Budget(call), 1, 300);
        await call.Aborted.WaitAsync(Signal.Patience);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-5")]
    [InlineData("1e3")]
    [InlineData("")]
    [InlineData("4294967295")]
    [InlineData("99999999999999999999")]
    public async Task Get_MalformedClientBudget_IsIgnored(string budget)
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/item", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}")));
        var config = new GatewayConfig()
            .Cluster("svc", downstream.BaseAddress)
            .Aggregate("agg", "/agg", s => s.Source("item", "svc", "/item", required: true), timeout: TimeSpan.FromSeconds(3));
        await using var gateway = await TestGateway.StartAsync(config);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/agg");
        request.Headers.TryAddWithoutValidation(BudgetHeader, budget);

        var answer = await gateway.SendAsync(request);

        // Read as a number, "-5" would leave nothing to call with and "1e3" at most 1000 ms.
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.InRange(Budget(Assert.Single(downstream.RequestsTo("/item"))), 1500, 3000);
    }

    [Fact]
    public async Task Get_ClientBudgetBelowMinBudget_SourceIsNotCalledAndTimesOut()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/item", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}")));
        var config = new GatewayConfig()
            .Cluster("svc", downstream.BaseAddress)
            .Deadline(minBudget: TimeSpan.FromMilliseconds(5))
            .Aggregate("agg", "/agg", s => s.Source("item", "svc", "/item", required: true), timeout: TimeSpan.FromSeconds(5));
        await using var gateway = await TestGateway.StartAsync(config);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/agg");
        request.Headers.Add(BudgetHeader, "2");

        var answer = await gateway.SendAsync(request);

        Assert.Equal(HttpStatusCode.GatewayTimeout, answer.StatusCode);
        Assert.Equal("timeout", answer.ErrorKind("item"));
        Assert.Contains("not called", answer.Error("item").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(downstream.Requests);
    }

    private static long Budget(ReceivedRequest request)
    {
        Assert.True(request.Headers.TryGetValue(BudgetHeader, out var value), $"{request} carried no {BudgetHeader}");
        return long.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
    }
}
