using System.Net;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Gateway.IntegrationTests.Downstream;

/// <summary>
/// A cut-off the client asked for (its budget) is no evidence against a downstream: a client with tiny budgets
/// cannot open a cluster's shared breaker, nor keep it open by being the half-open probe. The downstream is real
/// and healthy, answering in about 50 ms; the breaker's break is jumped over on the gateway's clock.
/// </summary>
public sealed class BreakerEvidenceTests
{
    private const string BudgetHeader = "X-Request-Budget-Ms";
    private const int TinyBudgetRequests = 20;
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);

    // Against a downstream held until the test lets go, any budget is tiny; 200 ms rather than 6 ms lets a loaded
    // machine reach the call (6 ms is only 1 ms above MinBudget, and a source with less left is not called at all).
    private const string HeldProbeBudget = "200";

    [Fact]
    public async Task Route_ManyRequestsWithA6msBudget_DoNotOpenTheBreakerForRequestsWithoutBudget()
    {
        await using var downstream = await StartDownstreamAsync(new Mode());
        await using var gateway = await StartGatewayAsync(downstream, new JumpingTimeProvider());
        await WarmUpAsync(gateway);

        var cut = await SendTinyBudgetsAsync(gateway, i => $"/svc/items/{i}");

        // Each was cut off by its budget (504), none refused by an open circuit (503).
        Assert.All(cut, a => Assert.True(a.StatusCode is HttpStatusCode.GatewayTimeout or HttpStatusCode.OK, a.ToString()));
        Assert.Contains(cut, a => a.StatusCode == HttpStatusCode.GatewayTimeout);
        var route = await SendAsync(gateway, "/svc/items/after", budget: null);
        Assert.True(route.StatusCode == HttpStatusCode.OK, route.ToString());
        var aggregate = await SendAsync(gateway, "/agg/after", budget: null);
        Assert.True(aggregate.StatusCode == HttpStatusCode.OK, aggregate.ToString());
    }

    [Fact]
    public async Task Aggregate_ManyRequestsWithA6msBudget_DoNotOpenTheBreakerForRequestsWithoutBudget()
    {
        await using var downstream = await StartDownstreamAsync(new Mode());
        await using var gateway = await StartGatewayAsync(downstream, new JumpingTimeProvider());
        await WarmUpAsync(gateway);

        var cut = await SendTinyBudgetsAsync(gateway, i => $"/agg/{i}");

        Assert.All(cut, a => Assert.True(a.StatusCode is HttpStatusCode.GatewayTimeout or HttpStatusCode.OK, a.ToString()));
        Assert.Contains(cut, a => a.StatusCode == HttpStatusCode.GatewayTimeout && a.ErrorKind("item") == "timeout");
        var aggregate = await SendAsync(gateway, "/agg/after", budget: null);
        Assert.True(aggregate.StatusCode == HttpStatusCode.OK, aggregate.ToString());
        var route = await SendAsync(gateway, "/svc/items/after", budget: null);
        Assert.True(route.StatusCode == HttpStatusCode.OK, route.ToString());
    }

    [Fact]
    public async Task Route_HalfOpenProbeHasA6msBudget_ItGetsTheRealAnswerAndTheCircuitCloses()
    {
        var mode = new Mode();
        var time = new JumpingTimeProvider();
        await using var downstream = await StartDownstreamAsync(mode);
        await using var gateway = await StartGatewayAsync(downstream, time);
        await OpenWithRealFailuresAsync(gateway, mode, i => $"/svc/items/fail{i}", HttpStatusCode.InternalServerError);

        // The downstream recovers; the break is over; a client with a 6 ms budget comes first.
        mode.Failing = false;
        time.Jump(BreakDuration + TimeSpan.FromSeconds(1));
        var probe = await SendAsync(gateway, "/svc/items/probe", "6");

        // As the probe, its budget gave way to the route's own (here: none), so the breaker heard the downstream.
        Assert.True(probe.StatusCode == HttpStatusCode.OK, probe.ToString());
        Assert.False(downstream.RequestsTo("/items/probe").Single().Headers.ContainsKey(BudgetHeader));
        for (var i = 0; i < 3; i++)
        {
            var route = await SendAsync(gateway, $"/svc/items/after{i}", budget: null);
            Assert.True(route.StatusCode == HttpStatusCode.OK, route.ToString());
            var aggregate = await SendAsync(gateway, $"/agg/after{i}", budget: null);
            Assert.True(aggregate.StatusCode == HttpStatusCode.OK, aggregate.ToString());
        }
    }

    [Fact]
    public async Task Aggregate_HalfOpenProbeHasAShortBudget_ClientAnswersAtItsDeadlineAndTheProbesRealAnswerClosesTheCircuit()
    {
        var mode = new Mode();
        var time = new JumpingTimeProvider();
        await using var downstream = await StartDownstreamAsync(mode);
        await using var gateway = await StartGatewayAsync(downstream, time);
        await OpenWithRealFailuresAsync(gateway, mode, i => $"/agg/fail{i}", HttpStatusCode.BadGateway);

        // Recovered, but the probe's answer waits until the test lets it go; a client with a short budget comes first.
        mode.Failing = false;
        mode.Hold = new Signal();
        time.Jump(BreakDuration + TimeSpan.FromSeconds(1));
        var probe = await SendAsync(gateway, "/agg/probe", HeldProbeBudget);

        // The client's answer came at its deadline, while the downstream still held the probe's call.
        Assert.True(probe.StatusCode == HttpStatusCode.GatewayTimeout, probe.ToString());
        Assert.Equal("timeout", probe.ErrorKind("item"));
        var held = downstream.RequestsTo("/items/probe").Single();
        Assert.False(held.Aborted.IsCompleted, "the probe's call was cut off with its client's deadline");

        // Its answer reaches the breaker, which closes: no client waits for another break.
        mode.Hold.Set();
        var closed = await Poll.UntilAsync(() => SendAsync(gateway, "/agg/closed", budget: null), a => a.StatusCode == HttpStatusCode.OK, "the circuit closing on the probe's answer", TimeSpan.FromSeconds(5));
        Assert.Equal("ok", closed.Outcome("item"));
        for (var i = 0; i < 3; i++)
        {
            var aggregate = await SendAsync(gateway, $"/agg/after{i}", budget: null);
            Assert.True(aggregate.StatusCode == HttpStatusCode.OK, aggregate.ToString());
            var route = await SendAsync(gateway, $"/svc/items/after{i}", budget: null);
            Assert.True(route.StatusCode == HttpStatusCode.OK, route.ToString());
        }
    }

    [Fact]
    public async Task Aggregate_HalfOpenProbeHasAShortBudgetAndTheDownstreamStillHangs_ItsOwnTimeoutReopensTheCircuit()
    {
        var mode = new Mode();
        var time = new JumpingTimeProvider();
        await using var downstream = await StartDownstreamAsync(mode);
        await using var gateway = await StartGatewayAsync(downstream, time);
        await OpenWithRealFailuresAsync(gateway, mode, i => $"/agg/fail{i}", HttpStatusCode.BadGateway);

        // Not recovered: it now hangs past the source's 1 s timeout.
        mode.Failing = false;
        mode.Hold = new Signal();
        time.Jump(BreakDuration + TimeSpan.FromSeconds(1));
        var probe = await SendAsync(gateway, "/agg/probe", HeldProbeBudget);
        Assert.True(probe.StatusCode == HttpStatusCode.GatewayTimeout, probe.ToString());

        // The probe ran on to its own timeout, real evidence: the circuit is open again, for everyone.
        // (Had the probe closed it, these would reach the hanging downstream and time out.)
        var held = downstream.RequestsTo("/items/probe").Single();
        await held.Aborted.WaitAsync(Signal.Patience);
        for (var i = 0; i < 3; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100));
            var reopened = await SendAsync(gateway, $"/agg/reopened{i}", budget: null);
            Assert.True(reopened.StatusCode == HttpStatusCode.ServiceUnavailable, reopened.ToString());
            Assert.Equal("circuit_open", reopened.ErrorKind("item"));
        }

        Assert.Empty(downstream.RequestsTo("/items/reopened"));
    }

    [Fact]
    public async Task RouteAndAggregate_ManyRequestsWithA6msBudget_PassiveHealthKeepsTheDestination()
    {
        await using var downstream = await StartDownstreamAsync(new Mode());
        await using var gateway = await StartGatewayAsync(downstream, new JumpingTimeProvider(), c => c.PassiveHealthCheck("svc", reactivationPeriod: TimeSpan.FromMinutes(5), failureRateLimit: 0.3));
        await WarmUpAsync(gateway);

        var cut = (await SendTinyBudgetsAsync(gateway, i => $"/svc/items/{i}")).Concat(await SendTinyBudgetsAsync(gateway, i => $"/agg/{i}")).ToList();

        Assert.Contains(cut, a => a.StatusCode == HttpStatusCode.GatewayTimeout);
        Assert.True(gateway.Services.GetRequiredService<IProxyStateLookup>().TryGetCluster("svc", out var cluster));
        Assert.All(cluster.Destinations.Values, d => Assert.NotEqual(DestinationHealth.Unhealthy, d.Health.Passive));
        var route = await SendAsync(gateway, "/svc/items/after", budget: null);
        Assert.True(route.StatusCode == HttpStatusCode.OK, route.ToString());
        var aggregate = await SendAsync(gateway, "/agg/after", budget: null);
        Assert.True(aggregate.StatusCode == HttpStatusCode.OK, aggregate.ToString());
    }

    // Real failures (500s) open the circuit: MinimumThroughput 4 at FailureRatio 0.5.
    private static async Task OpenWithRealFailuresAsync(TestGateway gateway, Mode mode, Func<int, string> path, HttpStatusCode failed)
    {
        mode.Failing = true;
        for (var i = 0; i < 4; i++)
        {
            var answer = await SendAsync(gateway, path(i), budget: null);
            Assert.True(answer.StatusCode == failed, answer.ToString());
        }

        var open = await SendAsync(gateway, "/agg/open", budget: null);
        Assert.True(open.StatusCode == HttpStatusCode.ServiceUnavailable, open.ToString());
        Assert.Equal("circuit_open", open.ErrorKind("item"));
    }

    private static async Task<List<AggregateAnswer>> SendTinyBudgetsAsync(TestGateway gateway, Func<int, string> path)
    {
        var answers = new List<AggregateAnswer>();
        for (var i = 0; i < TinyBudgetRequests; i++)
        {
            answers.Add(await SendAsync(gateway, path(i), "6"));
        }

        return answers;
    }

    // Connections and code paths in place, so that the first cut-off is the budget's and not a cold start's.
    private static async Task WarmUpAsync(TestGateway gateway)
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(gateway, "/svc/items/warm", budget: null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(gateway, "/agg/warm", budget: null)).StatusCode);
    }

    private static Task<TestGateway> StartGatewayAsync(TestDownstream downstream, JumpingTimeProvider time, Action<GatewayConfig>? configure = null)
    {
        var config = new GatewayConfig()
            .Cluster("svc", downstream.BaseAddress)
            .Resilience("svc", r => r.CircuitBreaker(failureRatio: 0.5, minimumThroughput: 4, breakDuration: BreakDuration, samplingDuration: TimeSpan.FromSeconds(30)))
            .Route("svc", "svc", "/svc/{**rest}", configure: r => r["Transforms"] = new JsonArray(new JsonObject { ["PathPattern"] = "/{**rest}" }))
            .Aggregate("agg", "/agg/{id}", a => a.Source("item", "svc", "/items/{id}", required: true, timeout: TimeSpan.FromSeconds(1)));
        configure?.Invoke(config);
        return TestGateway.StartAsync(config, configureBuilder: b => b.Services.AddSingleton<TimeProvider>(time));
    }

    private static Task<TestDownstream> StartDownstreamAsync(Mode mode) =>
        TestDownstream.StartAsync((app, d) => app.MapGet("/items/{id}", async (HttpContext c) =>
        {
            if (mode.Failing)
            {
                await TestDownstream.WriteJsonAsync(c, """{"error":"boom"}""", StatusCodes.Status500InternalServerError);
                return;
            }

            if (mode.Hold is { } hold)
            {
                await d.HoldAsync(c, hold);
            }
            else
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), c.RequestAborted);
            }

            await TestDownstream.WriteJsonAsync(c, """{"ok":true}""");
        }));

    private static Task<AggregateAnswer> SendAsync(TestGateway gateway, string path, string? budget)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (budget is not null)
        {
            request.Headers.TryAddWithoutValidation(BudgetHeader, budget);
        }

        return gateway.SendAsync(request);
    }

    /// <summary>How the downstream behaves now: failing with 500, holding each request until released, or healthy.</summary>
    private sealed class Mode
    {
        private volatile bool _failing;
        private volatile Signal? _hold;

        public bool Failing
        {
            get => _failing;
            set => _failing = value;
        }

        public Signal? Hold
        {
            get => _hold;
            set => _hold = value;
        }
    }
}
