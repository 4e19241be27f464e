using System.Diagnostics;
using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Downstream;

/// <summary>Retries of transient failures: counted in meta, paced by Retry-After, held to the retry budget.</summary>
public sealed class RetryTests
{
    [Fact]
    public async Task Get_FirstAttemptAnswers503_RetrySucceedsAndMetaCountsTwoAttempts()
    {
        var hits = 0;
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/items/{id}", (HttpContext c) => Interlocked.Increment(ref hits) == 1
                ? TestDownstream.WriteJsonAsync(c, "{}", StatusCodes.Status503ServiceUnavailable)
                : TestDownstream.WriteJsonAsync(c, """{"id":1}""")));
        var config = new GatewayConfig()
            .Cluster("items", downstream.BaseAddress)
            .Resilience("items", r => r.Retry(maxRetryAttempts: 2, delay: TimeSpan.FromMilliseconds(10)))
            .Aggregate("agg", "/agg/{id}", a => a.Source("item", "items", "/items/{id}", required: true));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/1");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("ok", answer.Outcome("item"));
        Assert.Equal(2, answer.SourceMeta("item").GetProperty("attempts").GetInt32());
        Assert.Equal(2, downstream.RequestsTo("/items/1").Count);
    }

    [Fact]
    public async Task Get_503WithRetryAfterOneSecond_RetryWaitsForIt()
    {
        var hits = 0;
        var arrivals = new long[2];
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/items/{id}", (HttpContext c) =>
            {
                var hit = Interlocked.Increment(ref hits);
                if (hit <= 2)
                {
                    arrivals[hit - 1] = Stopwatch.GetTimestamp();
                }

                if (hit > 1)
                {
                    return TestDownstream.WriteJsonAsync(c, """{"id":1}""");
                }

                c.Response.Headers.RetryAfter = "1";
                return TestDownstream.WriteJsonAsync(c, "{}", StatusCodes.Status503ServiceUnavailable);
            }));
        // The configured delay is tiny: only the downstream's Retry-After can make the retry wait a second.
        var config = new GatewayConfig()
            .Cluster("items", downstream.BaseAddress)
            .Resilience("items", r => r.Retry(maxRetryAttempts: 2, delay: TimeSpan.FromMilliseconds(10)))
            .Aggregate("agg", "/agg/{id}", a => a.Source("item", "items", "/items/{id}", required: true, timeout: TimeSpan.FromSeconds(8)),
                timeout: TimeSpan.FromSeconds(10));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/1");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(2, answer.SourceMeta("item").GetProperty("attempts").GetInt32());
        var gap = Stopwatch.GetElapsedTime(arrivals[0], arrivals[1]);
        Assert.InRange(gap, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Get_BurstAgainstADownstreamThatAlwaysFails_RetriesStayWithinTheBudget()
    {
        const int Burst = 40;
        const int MaxRetries = 3;
        const double BudgetPercent = 20;
        var hits = 0;
        var firstRound = new Rendezvous(Burst);
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/items/{id}", async (HttpContext c) =>
            {
                if (Interlocked.Increment(ref hits) <= Burst)
                {
                    // Every first attempt fails at about the same time, while all 40 calls are in flight.
                    await firstRound.ArriveAndWaitAsync(Signal.Patience, c.RequestAborted);
                }
                else
                {
                    // Retries stay in flight a little, so that they overlap the decisions of the others.
                    await Task.Delay(TimeSpan.FromMilliseconds(200), c.RequestAborted);
                }

                await TestDownstream.WriteJsonAsync(c, "{}", StatusCodes.Status500InternalServerError);
            }));
        var config = new GatewayConfig()
            .Cluster("items", downstream.BaseAddress)
            .Resilience("items", r => r.Retry(MaxRetries, TimeSpan.FromMilliseconds(10), budgetPercent: BudgetPercent, minRetryConcurrency: 1))
            .Aggregate("agg", "/agg/{id}", a => a.Source("item", "items", "/items/{id}", required: true, timeout: TimeSpan.FromSeconds(10)),
                timeout: TimeSpan.FromSeconds(15));
        await using var gateway = await TestGateway.StartAsync(config);

        var answers = await Task.WhenAll(Enumerable.Range(0, Burst).Select(i => gateway.GetAsync($"/agg/{i}")));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.BadGateway, a.StatusCode));
        Assert.All(answers, a => Assert.Equal("http_status", a.ErrorKind("item")));
        // Retries in flight never exceed 20% of the calls in flight: 8 while all 40 are in flight, then
        // max(1, 20% of the 8 still retrying) = 1 per later wave, 40 + 8 + 1 + 1 = 50 in all; the bound
        // allows 8 in every wave. Without the budget: 40 x (1 + 3) = 160.
        var allowedInFlight = (int)(Burst * BudgetPercent / 100);
        var requests = downstream.RequestsTo("/items").Count;
        Assert.InRange(requests, Burst + 1, Burst + (allowedInFlight * MaxRetries));
        Assert.Contains(answers, a => a.SourceMeta("item").TryGetProperty("attempts", out _));
    }

    [Fact]
    public async Task Get_RetryAfterBeyondTheTimeLeft_IsNotRetried()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/items/{id}", (HttpContext c) =>
            {
                c.Response.Headers.RetryAfter = "30";
                return TestDownstream.WriteJsonAsync(c, "{}", StatusCodes.Status503ServiceUnavailable);
            }));
        var config = new GatewayConfig()
            .Cluster("items", downstream.BaseAddress)
            .Resilience("items", r => r.Retry(maxRetryAttempts: 3, delay: TimeSpan.FromMilliseconds(10)))
            .Aggregate("agg", "/agg/{id}", a => a.Source("item", "items", "/items/{id}", required: true, timeout: TimeSpan.FromSeconds(2)));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/1");

        Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
        Assert.Equal(503, answer.Error("item").GetProperty("status").GetInt32());
        Assert.False(answer.SourceMeta("item").TryGetProperty("attempts", out _), answer.Body);
        Assert.Single(downstream.RequestsTo("/items/1"));
    }

    [Fact]
    public async Task Get_FirstDestinationRefusesConnections_RetryGoesToTheOtherDestination()
    {
        await using var healthy = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/items/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"id":1}""")));
        var config = new GatewayConfig()
            .Cluster("items", ("a", new Uri($"http://127.0.0.1:{Ports.Closed()}/")), ("b", healthy.BaseAddress))
            .LoadBalancing("items", "FirstAlphabetical")
            .Resilience("items", r => r.Retry(maxRetryAttempts: 1, delay: TimeSpan.FromMilliseconds(10)))
            .Aggregate("agg", "/agg/{id}", a => a.Source("item", "items", "/items/{id}", required: true));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/1");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(2, answer.SourceMeta("item").GetProperty("attempts").GetInt32());
        Assert.Single(healthy.RequestsTo("/items/1"));
    }
}
