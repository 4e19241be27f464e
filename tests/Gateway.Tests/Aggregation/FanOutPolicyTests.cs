using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Aggregation;
using Gateway.Model;
using Microsoft.Extensions.Primitives;
using static Gateway.Tests.Aggregation.FanOutHarness;

namespace Gateway.Tests.Aggregation;

/// <summary>Fail-fast, deadlines, shutdown and the resilience pipeline, on fake time and a fake handler.</summary>
public sealed class FanOutPolicyTests
{
    private static JsonObject Aggregate(JsonObject sources, bool? failFast = null)
    {
        var aggregate = new JsonObject { ["Route"] = "/agg/{id}", ["Timeout"] = "5s", ["Sources"] = sources };
        if (failFast is { } f)
        {
            aggregate["FailFast"] = f;
        }

        return aggregate;
    }

    private static TaskCompletionSource Signal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static async Task<HttpResponseMessage> HangAsync(TaskCompletionSource? cancelled, CancellationToken ct)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        finally
        {
            cancelled?.TrySetResult();
        }

        throw new InvalidOperationException("unreachable");
    }

    [Fact]
    public async Task Execute_RequiredFailsWhileOptionalHangs_AnswersAtOnceAndCancelsTheOptionalCall()
    {
        var hangCancelled = Signal();
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["req"] = Source("users", "/req", required: true), ["opt"] = Source("orders", "/opt", timeout: "4s") }),
            (request, ct) => request.RequestUri!.AbsolutePath.EndsWith("/opt", StringComparison.Ordinal)
                ? HangAsync(hangCancelled, ct)
                : Task.FromResult(Json("{}", HttpStatusCode.InternalServerError)));

        // No time passes: the answer must not wait for the optional source's 4 s timeout.
        var results = await harness.RunAsync().Within();

        await hangCancelled.Task.Within();
        Assert.Equal(SourceOutcome.HttpStatus, harness.Result(results, "req").Outcome);
        var opt = harness.Result(results, "opt");
        Assert.Equal(SourceOutcome.Cancelled, opt.Outcome);
        Assert.Contains("required source", opt.Message, StringComparison.Ordinal);
        Assert.Equal(502, AggregateVerdict.From(harness.Plan.Definition, results).StatusCode);
    }

    [Fact]
    public async Task Execute_FailFastOff_WaitsForTheOptionalSource()
    {
        var optCalled = Signal();
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["req"] = Source("users", "/req", required: true), ["opt"] = Source("orders", "/opt", timeout: "4s") }, failFast: false),
            (request, ct) =>
            {
                if (request.RequestUri!.AbsolutePath.EndsWith("/opt", StringComparison.Ordinal))
                {
                    optCalled.TrySetResult();
                    return HangAsync(null, ct);
                }

                return Task.FromResult(Json("{}", HttpStatusCode.InternalServerError));
            });

        var run = harness.RunAsync();
        await optCalled.Task.Within();
        harness.Time.Advance(TimeSpan.FromSeconds(3.9));
        Assert.False(run.IsCompleted);
        harness.Time.Advance(TimeSpan.FromMilliseconds(100));
        var results = await run.Within();
        Assert.Equal(SourceOutcome.Timeout, harness.Result(results, "opt").Outcome);
    }

    [Fact]
    public async Task Execute_RequiredFails_DependentsNotYetStartedAreCancelledNeverCalled()
    {
        var calls = new ConcurrentQueue<string>();
        var releaseA = Signal();
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject
            {
                ["a"] = Source("users", "/a"),
                ["b"] = Source("users", "/b/{a.id}"),
                ["req"] = Source("orders", "/req", required: true),
            }),
            async (request, ct) =>
            {
                calls.Enqueue(request.RequestUri!.AbsolutePath);
                if (request.RequestUri.AbsolutePath == "/a")
                {
                    await releaseA.Task.WaitAsync(ct);
                    return Json("""{"id":1}""");
                }

                return Json("{}", HttpStatusCode.BadGateway);
            });

        var results = await harness.RunAsync().Within();
        Assert.Equal(SourceOutcome.Cancelled, harness.Result(results, "a").Outcome);
        Assert.Equal(SourceOutcome.Cancelled, harness.Result(results, "b").Outcome);
        Assert.DoesNotContain("/b/1", calls);
    }

    [Fact]
    public async Task Execute_ClientBudgetShorterThanTimeout_DeadlineIsTheBudget()
    {
        var called = Signal();
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a", required: true) }),
            (request, ct) =>
            {
                called.TrySetResult();
                return HangAsync(null, ct);
            });

        var run = harness.RunWithDeadlineAsync(TimeSpan.FromMilliseconds(300));
        await called.Task.Within();
        harness.Time.Advance(TimeSpan.FromMilliseconds(299));
        Assert.False(run.IsCompleted);
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        var a = (await run.Within())[0];
        Assert.Equal(SourceOutcome.Timeout, a.Outcome);
        Assert.Contains("300 ms (the client's budget)", a.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execute_LessThanMinBudgetLeft_SourceIsNotCalled()
    {
        var calls = 0;
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a", required: true) }),
            (request, ct) =>
            {
                Interlocked.Increment(ref calls);
                return Task.FromResult(Json("{}"));
            });

        var a = (await harness.RunWithDeadlineAsync(TimeSpan.FromMilliseconds(4)).Within())[0];
        Assert.Equal(SourceOutcome.Timeout, a.Outcome);
        Assert.Contains("minimum budget of 5 ms", a.Message, StringComparison.Ordinal);
        Assert.Equal(0, calls);
    }

    [Fact]
    public async Task Execute_DependentChain_BudgetHeaderCarriesTheTimeLeft()
    {
        var budgets = new ConcurrentDictionary<string, string>();
        var aCalled = Signal();
        var releaseA = Signal();
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a", timeout: "2s"), ["b"] = Source("users", "/b/{a.id}", timeout: "5s") }),
            async (request, ct) =>
            {
                budgets[request.RequestUri!.AbsolutePath] = request.Headers.GetValues("X-Request-Budget-Ms").Single();
                if (request.RequestUri.AbsolutePath == "/a")
                {
                    aCalled.TrySetResult();
                    await releaseA.Task.WaitAsync(ct);
                }

                return Json("""{"id":7}""");
            });

        var run = harness.RunAsync();
        await aCalled.Task.Within();
        harness.Time.Advance(TimeSpan.FromMilliseconds(1500));
        releaseA.SetResult();
        await run.Within();

        Assert.Equal("2000", budgets["/a"]);      // its own timeout, below the 5 s deadline
        Assert.Equal("3500", budgets["/b/7"]);    // what is left of the deadline
    }

    [Fact]
    public async Task Execute_AttemptTimeoutShorterThanTheTimeLeft_BudgetHeaderIsTheAttempts()
    {
        string? budget = null;
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a", timeout: "2s") }),
            (request, ct) =>
            {
                budget = request.Headers.GetValues("X-Request-Budget-Ms").Single();
                return Task.FromResult(Json("{}"));
            },
            Downstreams("""{ "AttemptTimeout": "300ms" }"""));

        await harness.RunAsync().Within();
        Assert.Equal("300", budget);
    }

    [Fact]
    public async Task Execute_HostStopping_RunningCallsEndCancelled()
    {
        var called = Signal();
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a", required: true) }),
            (request, ct) =>
            {
                called.TrySetResult();
                return HangAsync(null, ct);
            });

        var run = harness.RunAsync();
        await called.Task.Within();
        harness.Stop();
        var a = (await run.Within())[0];
        Assert.Equal(SourceOutcome.Cancelled, a.Outcome);
        Assert.Contains("shutting down", a.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execute_RetryConfigured_TransientFailureIsRetriedAndAttemptsCounted()
    {
        var calls = 0;
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a", required: true) }),
            (request, ct) => Task.FromResult(Interlocked.Increment(ref calls) == 1 ? Json("{}", HttpStatusCode.ServiceUnavailable) : Json("""{"ok":1}""")),
            Downstreams("""{ "Retry": { "MaxRetryAttempts": 2, "Delay": "0ms" } }"""));

        var a = (await harness.RunAsync().Within())[0];
        Assert.Equal(SourceOutcome.Ok, a.Outcome);
        Assert.Equal(2, a.Attempts);
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task Execute_RetryConfigured_NotFoundIsNotRetried()
    {
        var calls = 0;
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a") }),
            (request, ct) =>
            {
                Interlocked.Increment(ref calls);
                return Task.FromResult(Json("{}", HttpStatusCode.NotFound));
            },
            Downstreams("""{ "Retry": { "MaxRetryAttempts": 3, "Delay": "0ms" } }"""));

        var a = (await harness.RunAsync().Within())[0];
        Assert.Equal(SourceOutcome.HttpStatus, a.Outcome);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task Execute_BackoffLongerThanTheTimeLeft_NotRetriedTheDownstreamsAnswerStands()
    {
        var calls = 0;
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a", required: true, timeout: "1s") }),
            (request, ct) =>
            {
                Interlocked.Increment(ref calls);
                return Task.FromResult(Json("{}", HttpStatusCode.ServiceUnavailable));
            },
            Downstreams("""{ "Retry": { "MaxRetryAttempts": 3, "Delay": "999ms", "BackoffType": "Constant" } }"""));

        var a = (await harness.RunAsync().Within())[0];
        Assert.Equal(SourceOutcome.HttpStatus, a.Outcome);
        Assert.Equal(1, calls);
        Assert.Equal(502, AggregateVerdict.From(harness.Plan.Definition, [a]).StatusCode);
    }

    [Fact]
    public async Task Execute_AttemptTimesOut_IsRetriedInsideTheSourceTimeout()
    {
        var calls = 0;
        var firstCalled = Signal();
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a", timeout: "1s") }),
            (request, ct) =>
            {
                if (Interlocked.Increment(ref calls) == 1)
                {
                    firstCalled.TrySetResult();
                    return HangAsync(null, ct);
                }

                return Task.FromResult(Json("{}"));
            },
            Downstreams("""{ "AttemptTimeout": "200ms", "Retry": { "MaxRetryAttempts": 1, "Delay": "0ms" } }"""));

        var run = harness.RunAsync();
        await firstCalled.Task.Within();
        harness.Time.Advance(TimeSpan.FromMilliseconds(200));
        var a = (await run.Within())[0];
        Assert.Equal(SourceOutcome.Ok, a.Outcome);
        Assert.Equal(2, a.Attempts);
    }

    [Fact]
    public async Task Execute_BreakerOpens_CallsFailAsCircuitOpenWithoutBeingSentThenOneProbeCloses()
    {
        var calls = 0;
        var healthy = false;
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a", required: true) }),
            (request, ct) =>
            {
                Interlocked.Increment(ref calls);
                return Task.FromResult(Volatile.Read(ref healthy) ? Json("{}") : Json("{}", HttpStatusCode.InternalServerError));
            },
            Downstreams("""{ "CircuitBreaker": { "FailureRatio": 0.5, "MinimumThroughput": 2, "SamplingDuration": "10s", "BreakDuration": "3s" } }"""));

        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(SourceOutcome.HttpStatus, (await harness.RunAsync().Within())[0].Outcome);
        }

        var results = await harness.RunAsync().Within();
        Assert.Equal(SourceOutcome.CircuitOpen, results[0].Outcome);
        Assert.Equal(2, calls);
        var verdict = AggregateVerdict.From(harness.Plan.Definition, results);
        Assert.Equal(503, verdict.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), verdict.RetryAfter);

        Volatile.Write(ref healthy, true);
        harness.Time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(SourceOutcome.Ok, (await harness.RunAsync().Within())[0].Outcome);
        Assert.Equal(SourceOutcome.Ok, (await harness.RunAsync().Within())[0].Outcome);
        Assert.Equal(4, calls);
    }

    [Fact]
    public async Task Execute_DownstreamTooSlowForTheSourceTimeout_CountsAsABreakerFailure()
    {
        var calls = 0;
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a", timeout: "1s") }),
            (request, ct) =>
            {
                Interlocked.Increment(ref calls);
                return HangAsync(null, ct);
            },
            Downstreams("""{ "CircuitBreaker": { "FailureRatio": 0.5, "MinimumThroughput": 2, "SamplingDuration": "30s", "BreakDuration": "5s" } }"""));

        for (var i = 1; i <= 2; i++)
        {
            var run = harness.RunAsync();
            await WaitForAsync(() => Volatile.Read(ref calls) == i);
            harness.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(SourceOutcome.Timeout, (await run.Within())[0].Outcome);
        }

        Assert.Equal(SourceOutcome.CircuitOpen, (await harness.RunAsync().Within())[0].Outcome);
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task Execute_HalfOpenProbeCancelledByTheClient_CircuitDoesNotClose()
    {
        var calls = 0;
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a") }),
            (request, ct) => Interlocked.Increment(ref calls) <= 2 ? Task.FromResult(Json("{}", HttpStatusCode.InternalServerError)) : HangAsync(null, ct),
            Downstreams("""{ "CircuitBreaker": { "FailureRatio": 0.5, "MinimumThroughput": 2, "SamplingDuration": "30s", "BreakDuration": "5s" } }"""));
        await harness.RunAsync().Within();
        await harness.RunAsync().Within();
        Assert.Equal(SourceOutcome.CircuitOpen, (await harness.RunAsync().Within())[0].Outcome);

        harness.Time.Advance(TimeSpan.FromSeconds(5));
        using var client = new CancellationTokenSource();
        var probe = harness.RunAsync(client.Token);
        await WaitForAsync(() => Volatile.Read(ref calls) == 3);
        await client.CancelAsync();
        Assert.Equal(SourceOutcome.Cancelled, (await probe.Within())[0].Outcome);

        // The probe proved nothing: the circuit is open again, not closed.
        Assert.Equal(SourceOutcome.CircuitOpen, (await harness.RunAsync().Within())[0].Outcome);
        Assert.Equal(3, calls);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(5, limit.Token);
        }
    }

    [Fact]
    public async Task Execute_BothSlotsTaken_SecondCallQueuesAndTimesOutSayingSo()
    {
        var firstCalled = Signal();
        var release = Signal();
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a", timeout: "1s") }),
            async (request, ct) =>
            {
                firstCalled.TrySetResult();
                await release.Task.WaitAsync(ct);
                return Json("{}");
            },
            new JsonObject { ["users"] = new JsonObject { ["MaxConcurrency"] = 1, ["MaxQueue"] = 1 } });

        var first = harness.RunAsync();
        await firstCalled.Task.Within();
        var second = harness.RunAsync();
        // The second call must be in the queue (its timeout armed on the fake clock) before the clock moves.
        var limiter = harness.Plan.Downstreams[0].Limiter;
        var until = DateTime.UtcNow.AddSeconds(10);
        while (limiter.GetStatistics()?.CurrentQueuedCount != 1 && DateTime.UtcNow < until)
        {
            await Task.Delay(10);
        }

        Assert.Equal(1, limiter.GetStatistics()?.CurrentQueuedCount);
        harness.Time.Advance(TimeSpan.FromSeconds(1));
        var queued = (await second.Within())[0];
        Assert.Equal(SourceOutcome.Timeout, queued.Outcome);
        Assert.Contains("still queued", queued.Message, StringComparison.Ordinal);
        Assert.Equal(1000, queued.QueuedMs);
        Assert.Equal(SourceOutcome.Timeout, (await first.Within())[0].Outcome);
        release.SetResult();
    }

    [Fact]
    public async Task Execute_PerClusterPropagateHeaders_AddToOrReplaceTheGlobalList()
    {
        var received = new ConcurrentDictionary<string, string>();
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["u"] = Source("users", "/u"), ["o"] = Source("orders", "/o") }),
            (request, ct) =>
            {
                var names = request.Headers.Select(h => h.Key.ToUpperInvariant()).Where(h => h is "AUTHORIZATION" or "X-TENANT").Order();
                received[request.RequestUri!.AbsolutePath] = string.Join(",", names);
                return Task.FromResult(Json("{}"));
            },
            new JsonObject
            {
                ["Users"] = new JsonObject { ["PropagateHeaders"] = new JsonArray("Authorization") },
                ["orders"] = new JsonObject { ["PropagateHeaders"] = new JsonArray(), ["PropagateHeadersMode"] = "Replace" },
            });

        Assert.Equal(["Authorization", "X-Tenant"], harness.Plan.PropagateHeaders.Order());
        await harness.RunWithHeadersAsync([new("Authorization", new StringValues("Bearer t")), new("X-Tenant", new StringValues("r-1"))]).Within();

        Assert.Equal("AUTHORIZATION,X-TENANT", received["/u"]);   // cluster id matched case-insensitively
        Assert.Equal("", received["/base/o"]);
    }

    private static JsonObject Downstreams(string resilience) =>
        new() { ["users"] = new JsonObject { ["Resilience"] = JsonNode.Parse(resilience) } };
}
