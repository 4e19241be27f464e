using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Aggregation;
using Gateway.Model;
using static Gateway.Tests.Aggregation.FanOutHarness;

namespace Gateway.Tests.Aggregation;

public sealed class FanOutExecutorTests
{
    private static JsonObject Aggregate(JsonObject sources, string? timeout = null, int? maxParallel = null)
    {
        var aggregate = new JsonObject { ["Route"] = "/agg/{id}", ["Sources"] = sources };
        if (timeout is not null)
        {
            aggregate["Timeout"] = timeout;
        }

        if (maxParallel is not null)
        {
            aggregate["MaxParallel"] = maxParallel;
        }

        return aggregate;
    }

    private static TaskCompletionSource Signal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Fact]
    public async Task Execute_IndependentSources_AllCallsStartBeforeAnyAnswers()
    {
        var arrived = 0;
        var bothArrived = Signal();
        var release = Signal();
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a"), ["b"] = Source("orders", "/b"), ["c"] = Source("users", "/c") }),
            async (request, ct) =>
            {
                if (Interlocked.Increment(ref arrived) == 3)
                {
                    bothArrived.SetResult();
                }

                await release.Task.WaitAsync(ct);
                return Json("{}");
            });

        var run = harness.RunAsync();
        await bothArrived.Task.Within();
        release.SetResult();
        var results = await run.Within();
        Assert.All(results, r => Assert.Equal(SourceOutcome.Ok, r.Outcome));
    }

    [Fact]
    public async Task Execute_LastSourceAnswers_TheRunEndsOnItsThreadWithoutAHop()
    {
        var arrived = 0;
        var allArrived = Signal();
        // One answer each, as from their own sockets; continuations inline: what an answer sets off runs inside SetResult.
        var answers = new ConcurrentDictionary<string, TaskCompletionSource>();
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a"), ["b"] = Source("orders", "/b") }),
            async (request, ct) =>
            {
                var answer = answers.GetOrAdd(request.RequestUri!.AbsolutePath, _ => new TaskCompletionSource());
                if (Interlocked.Increment(ref arrived) == 2)
                {
                    allArrived.SetResult();
                }

                await answer.Task.ConfigureAwait(false);
                return Json("{}");
            });

        var run = harness.RunAsync();
        await allArrived.Task.Within();
        // On a pool thread, where no synchronization context stops continuations from running inline.
        var doneWhenTheLastAnswerReturned = await Task.Run(() =>
        {
            answers["/a"].SetResult();
            var doneEarly = run.IsCompleted;
            answers["/base/b"].SetResult();
            return !doneEarly && run.IsCompleted;
        });

        // Done by the time the last answer's thread comes back: no work item queued for the rest of the request.
        Assert.True(doneWhenTheLastAnswerReturned);
        Assert.All(await run, r => Assert.Equal(SourceOutcome.Ok, r.Outcome));
    }

    [Fact]
    public async Task Execute_OptionalSourceTimesOut_FailsAtItsOwnTimeoutOthersSucceed()
    {
        var slowCalled = Signal();
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["fast"] = Source("users", "/fast", required: true), ["slow"] = Source("orders", "/slow", timeout: "00:00:00.300") }),
            async (request, ct) =>
            {
                if (request.RequestUri!.AbsolutePath.EndsWith("/slow", StringComparison.Ordinal))
                {
                    slowCalled.SetResult();
                    await Task.Delay(Timeout.Infinite, ct);
                }

                return Json("""{"ok":true}""");
            });

        var run = harness.RunAsync();
        await slowCalled.Task.Within();
        harness.Time.Advance(TimeSpan.FromMilliseconds(299));
        Assert.False(run.IsCompleted);
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        var results = await run.Within();

        var slow = harness.Result(results, "slow");
        Assert.Equal(SourceOutcome.Timeout, slow.Outcome);
        Assert.Equal("no answer within 300 ms", slow.Message);
        Assert.Equal(300, slow.ElapsedMs);
        Assert.Equal(SourceOutcome.Ok, harness.Result(results, "fast").Outcome);
        Assert.Equal(new AggregateVerdict(200, Complete: false), AggregateVerdict.From(harness.Plan.Definition, results));
    }

    [Fact]
    public async Task Execute_DependentSourceRunsPastDeadline_IsCutOffByTheDeadline()
    {
        var firstCalled = Signal();
        var secondCalled = Signal();
        FanOutHarness? self = null;
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject
            {
                ["first"] = Source("users", "/first"),
                ["second"] = Source("users", "/second/{first.id}", required: true, timeout: "00:00:00.800"),
            }, timeout: "00:00:01"),
            async (request, ct) =>
            {
                if (request.RequestUri!.AbsolutePath == "/first")
                {
                    firstCalled.SetResult();
                    await Task.Delay(TimeSpan.FromMilliseconds(500), self!.Time, ct);
                    return Json("""{"id":"x"}""");
                }

                secondCalled.SetResult();
                await Task.Delay(Timeout.Infinite, ct);
                return Json("{}");
            });
        self = harness;

        var run = harness.RunAsync();
        await firstCalled.Task.Within();
        harness.Time.Advance(TimeSpan.FromMilliseconds(500));
        await secondCalled.Task.Within();
        harness.Time.Advance(TimeSpan.FromMilliseconds(500));
        var results = await run.Within();

        var second = harness.Result(results, "second");
        Assert.Equal(SourceOutcome.Timeout, second.Outcome);
        Assert.Contains("deadline of 1000 ms", second.Message, StringComparison.Ordinal);
        Assert.Equal(500, second.ElapsedMs);
        Assert.Equal(504, AggregateVerdict.From(harness.Plan.Definition, results).StatusCode);
    }

    [Fact]
    public async Task Execute_DependentSource_StartsOnlyAfterItsInputWithItsField()
    {
        var calls = new ConcurrentQueue<string>();
        var releaseProfile = Signal();
        var profileCalled = Signal();
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject
            {
                ["profile"] = Source("users", "/users/{id}"),
                ["customer"] = Source("orders", "/customers/{profile.customerId}"),
            }),
            async (request, ct) =>
            {
                calls.Enqueue(request.RequestUri!.PathAndQuery);
                if (request.RequestUri.AbsolutePath.StartsWith("/users", StringComparison.Ordinal))
                {
                    profileCalled.SetResult();
                    await releaseProfile.Task.WaitAsync(ct);
                    return Json("""{"customerId":"c?1"}""");
                }

                return Json("""{"tier":"gold"}""");
            });

        var run = harness.RunAsync(default, "42");
        await profileCalled.Task.Within();
        Assert.Equal(["/users/42"], calls);
        releaseProfile.SetResult();
        var results = await run.Within();

        Assert.Equal(["/users/42", "/base/customers/c%3F1"], calls);
        Assert.Equal("""{"tier":"gold"}""", Encoding.UTF8.GetString(harness.Result(results, "customer").Body!.Span));
    }

    [Fact]
    public async Task Execute_InputFails_DependentsAreSkippedTransitivelyAndNeverCalled()
    {
        var calls = new ConcurrentQueue<string>();
        var aggregate = Aggregate(new JsonObject
        {
            ["a"] = Source("users", "/a"),
            ["b"] = Source("users", "/b/{a.id}", required: true),
            ["c"] = Source("users", "/c/{b.id}"),
            ["d"] = Source("users", "/d"),
        });
        aggregate["FailFast"] = false;
        using var harness = new FanOutHarness(
            aggregate,
            (request, ct) =>
            {
                calls.Enqueue(request.RequestUri!.AbsolutePath);
                return Task.FromResult(request.RequestUri.AbsolutePath == "/a" ? Json("oops", HttpStatusCode.ServiceUnavailable) : Json("""{"id":1}"""));
            });

        var results = await harness.RunAsync().Within();

        Assert.Equal(["/a", "/d"], calls.Order());
        Assert.Equal(SourceOutcome.HttpStatus, harness.Result(results, "a").Outcome);
        Assert.Equal(503, harness.Result(results, "a").Status);
        var b = harness.Result(results, "b");
        Assert.Equal(SourceOutcome.Skipped, b.Outcome);
        Assert.Equal(SourceOutcome.HttpStatus, b.Cause);
        Assert.Equal(SourceOutcome.Skipped, harness.Result(results, "c").Outcome);
        Assert.Equal(502, AggregateVerdict.From(harness.Plan.Definition, results).StatusCode);
    }

    [Fact]
    public async Task Execute_InputLacksTheField_DependentIsSkippedNamingIt()
    {
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a"), ["b"] = Source("users", "/b/{a.customerId}") }),
            (request, ct) => Task.FromResult(Json("""{"id":1}""")));

        var results = await harness.RunAsync().Within();

        var b = harness.Result(results, "b");
        Assert.Equal(SourceOutcome.Skipped, b.Outcome);
        Assert.Contains("{a.customerId}", b.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execute_MaxParallelOne_RunsSourcesOneAfterTheOther()
    {
        var calls = new ConcurrentQueue<string>();
        var firstCalled = Signal();
        var releaseFirst = Signal();
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a"), ["b"] = Source("users", "/b") }, maxParallel: 1),
            async (request, ct) =>
            {
                calls.Enqueue(request.RequestUri!.AbsolutePath);
                if (request.RequestUri.AbsolutePath == "/a")
                {
                    firstCalled.SetResult();
                    await releaseFirst.Task.WaitAsync(ct);
                }

                return Json("{}");
            });

        var run = harness.RunAsync();
        await firstCalled.Task.Within();
        await Task.Yield();
        Assert.Equal(["/a"], calls);
        releaseFirst.SetResult();
        await run.Within();
        Assert.Equal(["/a", "/b"], calls);
    }

    [Fact]
    public async Task Execute_DownstreamAtItsCap_ExtraCallRejectedWithoutWaiting()
    {
        var firstCalled = Signal();
        var release = Signal();
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a") }),
            async (request, ct) =>
            {
                firstCalled.TrySetResult();
                await release.Task.WaitAsync(ct);
                return Json("{}");
            },
            new JsonObject { ["users"] = new JsonObject { ["MaxConcurrency"] = 1, ["MaxQueue"] = 0 } });

        var first = harness.RunAsync();
        await firstCalled.Task.Within();
        var second = await harness.RunAsync().Within();

        Assert.Equal(SourceOutcome.Rejected, second[0].Outcome);
        Assert.Equal(0, second[0].ElapsedMs);
        release.SetResult();
        Assert.Equal(SourceOutcome.Ok, (await first.Within())[0].Outcome);
    }

    [Fact]
    public async Task Execute_ClientGoesAway_InFlightCallsAreCancelledAtOnce()
    {
        var called = Signal();
        var cancelled = Signal();
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a"), ["b"] = Source("users", "/b/{a.id}") }),
            async (request, ct) =>
            {
                called.SetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    cancelled.SetResult();
                    throw;
                }

                return Json("{}");
            });
        using var client = new CancellationTokenSource();

        var run = harness.RunAsync(client.Token);
        await called.Task.Within();
        await client.CancelAsync();
        await cancelled.Task.Within();
        var results = await run.Within();
        Assert.Equal(SourceOutcome.Skipped, harness.Result(results, "b").Outcome);
    }

    [Theory]
    [InlineData("not json", false)]
    [InlineData("{\"truncated\":", false)]
    [InlineData("[1]", true)]
    public async Task Execute_ResponseBody_IsValidatedAsJson(string body, bool valid)
    {
        var expected = valid ? SourceOutcome.Ok : SourceOutcome.InvalidResponse;
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a") }),
            (request, ct) => Task.FromResult(Json(body)));

        var results = await harness.RunAsync().Within();
        Assert.Equal(expected, results[0].Outcome);
    }

    [Fact]
    public async Task Execute_BodyOverMaxResponseBytes_IsInvalidResponse()
    {
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a") }),
            (request, ct) => Task.FromResult(Json("[" + string.Join(',', Enumerable.Repeat("1", 600)) + "]")),
            new JsonObject { ["users"] = new JsonObject { ["MaxResponseBytes"] = 1024 } });

        var result = (await harness.RunAsync().Within())[0];
        Assert.Equal(SourceOutcome.InvalidResponse, result.Outcome);
        Assert.Contains("larger than 1024 bytes", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execute_ConnectionFails_IsUnavailableWithoutTheAddress()
    {
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a") }),
            (request, ct) => throw new HttpRequestException("Connection refused (users.test:80)"));

        var result = (await harness.RunAsync().Within())[0];
        Assert.Equal(SourceOutcome.Unavailable, result.Outcome);
        Assert.DoesNotContain("users.test", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execute_PropagatedHeaders_AreSentDownstream()
    {
        string? tenant = null;
        using var harness = new FanOutHarness(
            Aggregate(new JsonObject { ["a"] = Source("users", "/a") }),
            (request, ct) =>
            {
                tenant = request.Headers.GetValues("X-Tenant").Single();
                return Task.FromResult(Json("{}"));
            });

        await harness.RunAsync().Within();
        Assert.Equal("r-1", tenant);
    }
}
