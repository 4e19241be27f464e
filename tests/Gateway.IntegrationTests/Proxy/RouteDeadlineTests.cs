using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Proxy;

/// <summary>
/// Deadlines on pass-through routes: the client's <c>X-Request-Budget-Ms</c> (or the route's <c>Timeout</c>,
/// whichever is lower) goes downstream as the time left, recomputed by the gateway, and is enforced with a 504.
/// </summary>
public sealed class RouteDeadlineTests
{
    private const string BudgetHeader = "X-Request-Budget-Ms";

    [Fact]
    public async Task Route_ClientSendsBudget_DownstreamGetsTheTimeLeftWithinIt()
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream));
        await SendAsync(gateway, "/svc/echo", budget: null); // a cold first request can take longer than the budget

        var answer = await SendAsync(gateway, "/svc/echo", "800");

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        var left = ReceivedBudget(downstream.Requests[^1]);
        Assert.InRange(left, 1, 800);
    }

    [Fact]
    public async Task Route_ClientBudgetAboveRouteTimeoutOrOddlyWritten_DownstreamGetsTheGatewaysOwnFigure()
    {
        await using var downstream = await StartDownstreamAsync();
        var config = Config(downstream)
            .Route("short", "svc", "/short/{**rest}", configure: r =>
            {
                ToRest(r);
                r["Timeout"] = GatewayConfig.Format(TimeSpan.FromMilliseconds(500));
            });
        await using var gateway = await TestGateway.StartAsync(config);
        await SendAsync(gateway, "/svc/echo", budget: null);

        await SendAsync(gateway, "/short/echo", "800");
        await SendAsync(gateway, "/svc/echo", "0000900");

        var received = downstream.Requests.Skip(1).ToList();
        Assert.Equal(2, received.Count);
        // The route's 500 ms is lower than the client's 800 ms.
        Assert.InRange(ReceivedBudget(received[0]), 1, 500);
        // 900 ms written with leading zeros: read as 900, sent as the time left, not as the client wrote it.
        Assert.NotEqual("0000900", received[1].Headers[BudgetHeader]);
        Assert.InRange(ReceivedBudget(received[1]), 1, 900);
    }

    [Fact]
    public async Task Route_NoValidClientBudgetAndNoRouteTimeout_NoBudgetHeaderIsSent()
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream));

        await SendAsync(gateway, "/svc/echo", budget: null);
        await SendAsync(gateway, "/svc/echo", "soon");
        await SendAsync(gateway, "/svc/echo", "-5");

        var received = downstream.Requests;
        Assert.Equal(3, received.Count);
        Assert.All(received, r => Assert.False(r.Headers.ContainsKey(BudgetHeader), $"{BudgetHeader}: {r.Headers.GetValueOrDefault(BudgetHeader)}"));
    }

    [Theory]
    [InlineData("4294967295")]
    [InlineData("99999999999999999999")]
    [InlineData("9223372036854775807")]
    public async Task Route_NoRouteTimeoutAndABudgetAboveWhatATimerTakes_IsIgnoredNot500(string budget)
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream));

        var answers = new[] { await SendAsync(gateway, "/svc/echo", budget), await SendAsync(gateway, "/svc/echo", budget) };

        Assert.All(answers, a => Assert.True(a.StatusCode == HttpStatusCode.OK, a.ToString()));
        Assert.All(downstream.Requests, r => Assert.False(r.Headers.ContainsKey(BudgetHeader), $"{BudgetHeader}: {r.Headers.GetValueOrDefault(BudgetHeader)}"));
        Assert.DoesNotContain(gateway.Log, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
    }

    [Fact]
    public async Task Route_NoRouteTimeoutAndTheLargestBudgetATimerTakes_IsTheDeadlineSentDownstream()
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream));

        var answer = await SendAsync(gateway, "/svc/echo", "4294967294");

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        Assert.InRange(ReceivedBudget(Assert.Single(downstream.Requests)), 4294967294 - 60_000, 4294967294);
    }

    [Fact]
    public async Task Route_DownstreamHangs_ClientGets504AfterItsBudgetAndTheDownstreamRequestIsAborted()
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream));
        await SendAsync(gateway, "/svc/echo", budget: null); // connection and code paths in place

        var stopwatch = Stopwatch.StartNew();
        var answer = await SendAsync(gateway, "/svc/hang", "800");
        stopwatch.Stop();

        Assert.True(answer.StatusCode == HttpStatusCode.GatewayTimeout, answer.ToString());
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(700), TimeSpan.FromSeconds(5));
        var hung = await downstream.WaitForRequestAsync("/hang");
        await hung.Aborted.WaitAsync(Signal.Patience);
    }

    [Fact]
    public async Task Route_DownstreamHangsPastTheRoutesOwnTimeout_ClientGets504Not400()
    {
        await using var downstream = await StartDownstreamAsync();
        var config = new GatewayConfig()
            .Cluster("svc", downstream.BaseAddress)
            .Route("svc", "svc", "/svc/{**rest}", configure: route =>
            {
                ToRest(route);
                route["Timeout"] = "00:00:00.500";
            });
        await using var gateway = await TestGateway.StartAsync(config);
        await SendAsync(gateway, "/svc/echo", budget: null);

        // ASP.NET Core's request timeout and the gateway's deadline fire at the same moment: whichever cancels
        // first, the client hears that the gateway gave up waiting (504), not that it left (400). Several tries,
        // as the two race.
        for (var i = 0; i < 5; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            var answer = await SendAsync(gateway, "/svc/hang", budget: null);
            stopwatch.Stop();

            Assert.True(answer.StatusCode == HttpStatusCode.GatewayTimeout, $"try {i}: {answer}");
            Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(5));
        }
    }

    private static GatewayConfig Config(TestDownstream downstream) =>
        new GatewayConfig()
            .Cluster("svc", downstream.BaseAddress)
            .Route("svc", "svc", "/svc/{**rest}", configure: ToRest);

    // The downstream sees the path after the route's prefix.
    private static void ToRest(JsonObject route) => route["Transforms"] = new JsonArray(new JsonObject { ["PathPattern"] = "/{**rest}" });

    private static Task<TestDownstream> StartDownstreamAsync() =>
        TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/echo", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
            app.MapGet("/hang", (HttpContext c) => d.HangAsync(c));
        });

    private static Task<AggregateAnswer> SendAsync(TestGateway gateway, string path, string? budget)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (budget is not null)
        {
            request.Headers.TryAddWithoutValidation(BudgetHeader, budget);
        }

        return gateway.SendAsync(request);
    }

    private static long ReceivedBudget(ReceivedRequest request)
    {
        Assert.True(request.Headers.TryGetValue(BudgetHeader, out var value), $"{request} carried no {BudgetHeader}");
        Assert.True(long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds), $"{BudgetHeader}: {value}");
        return milliseconds;
    }
}
