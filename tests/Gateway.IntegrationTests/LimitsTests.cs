using System.Net;
using System.Text;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests;

/// <summary>Per-downstream concurrency caps and queues, MaxParallel, MaxResponseBytes.</summary>
public sealed class LimitsTests
{
    [Fact]
    public async Task Get_DownstreamAtItsCapWithNoQueue_SecondCallIsRejectedAtOnce()
    {
        await Warmup.EnsureAsync();
        var release = new Signal();
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/users/{id}", d.HeldJson(release, """{"ok":true}""", TimeSpan.FromSeconds(15))));
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Downstream("users", maxConcurrency: 1, maxQueue: 0, timeout: TimeSpan.FromSeconds(15))
            .Aggregate("optional", "/optional/{id}", a => a.Source("profile", "users", "/users/{id}"), timeout: TimeSpan.FromSeconds(20))
            .Aggregate("required", "/required/{id}", a => a.Source("profile", "users", "/users/{id}", required: true), timeout: TimeSpan.FromSeconds(20));
        await using var gateway = await TestGateway.StartAsync(config);

        try
        {
            var first = gateway.GetAsync("/optional/first");
            await downstream.WaitForRequestAsync("/users/first");

            // Across requests and across aggregates: the cap belongs to the downstream.
            var second = await gateway.GetAsync("/optional/second");
            var third = await gateway.GetAsync("/required/third");

            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
            Assert.Equal("false", second.Complete);
            Assert.Equal("rejected", second.ErrorKind("profile"));
            Assert.False(second.HasData("profile"));
            Assert.True(second.Elapsed < TimeSpan.FromSeconds(1), $"rejection took {second.Elapsed}");
            // No downstream said anything: the gateway's own refusal is a 503 with a Retry-After.
            Assert.Equal(HttpStatusCode.ServiceUnavailable, third.StatusCode);
            Assert.Equal("1", third.Headers.RetryAfter?.ToString());
            Assert.Equal("false", third.Complete);
            Assert.Equal("rejected", third.ErrorKind("profile"));
            Assert.Empty(downstream.RequestsTo("/users/second"));
            Assert.Empty(downstream.RequestsTo("/users/third"));

            release.Set();
            var firstAnswer = await first.WaitAsync(Signal.Patience);
            Assert.Equal(HttpStatusCode.OK, firstAnswer.StatusCode);
            Assert.Equal("true", firstAnswer.Complete);

            // The slot is free again.
            var after = await gateway.GetAsync("/optional/after");
            Assert.Equal("true", after.Complete);
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public async Task Get_DownstreamAtItsCapWithQueueOfOne_OneCallWaitsAndTheNextIsRejected()
    {
        await Warmup.EnsureAsync();
        var release = new Signal();
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/users/{id}", async (HttpContext c) =>
            {
                if ((string?)c.Request.RouteValues["id"] == "first")
                {
                    await d.HoldAsync(c, release, TimeSpan.FromSeconds(15));
                }

                await TestDownstream.WriteJsonAsync(c, """{"ok":true}""");
            }));
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Downstream("users", maxConcurrency: 1, maxQueue: 1, timeout: TimeSpan.FromSeconds(15))
            .Aggregate("agg", "/agg/{id}", a => a.Source("profile", "users", "/users/{id}"), timeout: TimeSpan.FromSeconds(20));
        await using var gateway = await TestGateway.StartAsync(config);

        try
        {
            var first = gateway.GetAsync("/agg/first");
            await downstream.WaitForRequestAsync("/users/first");
            var queued = new[] { gateway.GetAsync("/agg/a"), gateway.GetAsync("/agg/b") };

            // One of the two takes the queue's only place, the other finds it full and is turned away at once.
            var rejected = await Task.WhenAny(queued).Unwrap().WaitAsync(Signal.Patience);
            Assert.Equal("rejected", rejected.ErrorKind("profile"));
            Assert.Single(downstream.Requests);

            var releasedAt = EventClock.Next();
            release.Set();
            var answers = await Task.WhenAll(queued).WaitAsync(Signal.Patience);
            var waited = Assert.Single(answers, a => a.Complete == "true");
            Assert.Single(answers, a => a.Complete == "false" && a.ErrorKind("profile") == "rejected");
            Assert.Equal(HttpStatusCode.OK, (await first.WaitAsync(Signal.Patience)).StatusCode);

            // The queued call reached the downstream only once the slot was free.
            var queuedCall = Assert.Single(downstream.Requests, r => r.Path != "/users/first");
            Assert.True(queuedCall.ArrivedAt > releasedAt, "the queued call ran while the slot was taken");
            Assert.Equal("ok", waited.Outcome("profile"));
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public async Task Get_MaxParallelOne_IndependentSourcesRunOneAfterTheOther()
    {
        var meeting = new Rendezvous(2);
        var met = new bool[2];
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/part/{n:int}", async (HttpContext c) =>
            {
                var n = int.Parse((string)c.Request.RouteValues["n"]!, System.Globalization.CultureInfo.InvariantCulture);
                met[n] = await meeting.ArriveAndWaitAsync(TimeSpan.FromMilliseconds(500), c.RequestAborted);
                await TestDownstream.WriteJsonAsync(c, $$"""{"part":{{n}}}""");
            }));
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Downstream("users", timeout: TimeSpan.FromSeconds(4))
            .Aggregate("agg", "/agg", a => a
                .Source("first", "users", "/part/0")
                .Source("second", "users", "/part/1"),
                timeout: TimeSpan.FromSeconds(9), maxParallel: 1);
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("true", answer.Complete);
        Assert.False(met[0] && met[1], "the two sources ran at the same time");
        Assert.Equal(2, downstream.RequestsTo("/part").Count);
    }

    [Theory]
    [InlineData(1024, false, true)]
    [InlineData(1024, true, true)]
    [InlineData(1025, false, false)]
    [InlineData(1025, true, false)]
    [InlineData(64 * 1024, false, false)]
    public async Task Get_BodySizeAgainstMaxResponseBytes_OverTheCapIsInvalidResponse(int size, bool chunked, bool accepted)
    {
        // A JSON string of exactly `size` bytes.
        var body = Encoding.UTF8.GetBytes("\"" + new string('a', size - 2) + "\"");
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/big", async (HttpContext c) =>
            {
                if (!chunked)
                {
                    await TestDownstream.WriteBytesAsync(c, body, "application/json");
                    return;
                }

                c.Response.ContentType = "application/json";
                for (var offset = 0; offset < body.Length; offset += 100)
                {
                    await c.Response.Body.WriteAsync(body.AsMemory(offset, Math.Min(100, body.Length - offset)), c.RequestAborted);
                    await c.Response.Body.FlushAsync(c.RequestAborted);
                }
            }));
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Downstream("users", maxResponseBytes: 1024)
            .Aggregate("agg", "/agg", a => a.Source("big", "users", "/big"));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        if (accepted)
        {
            Assert.Equal("true", answer.Complete);
            Assert.Equal(Encoding.UTF8.GetString(body), answer.Data.GetProperty("big").GetRawText());
        }
        else
        {
            Assert.Equal("false", answer.Complete);
            Assert.Equal("invalid_response", answer.ErrorKind("big"));
            Assert.False(answer.HasData("big"));
        }
    }

    [Fact]
    public async Task Get_EndlessStreamedBodyWithoutContentLength_FailsAsInvalidResponseAndCutsTheDownstreamOff()
    {
        const long bodyLimit = 64L * 1024 * 1024;
        // Chunks of exactly 0x400 bytes, each a JSON string and a comma: a well-formed body that never ends.
        var chunk = Encoding.ASCII.GetBytes("400\r\n\"" + new string('a', 1021) + "\",\r\n");
        Assert.Equal("400\r\n".Length + 1024 + "\r\n".Length, chunk.Length);
        var stoppedWriting = new Signal();
        var cutOff = false;
        long written = 0;
        // A raw socket, so that being cut off is observed for certain: a send on a closed connection fails.
        await using var downstream = RawHttpServer.Start(async (stream, head, stopping) =>
        {
            try
            {
                await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n[\r\n"u8.ToArray(), stopping);
                while (Interlocked.Read(ref written) < bodyLimit)
                {
                    await stream.WriteAsync(chunk, stopping);
                    Interlocked.Add(ref written, 1024);
                }
            }
            catch (IOException)
            {
                cutOff = true;
            }
            finally
            {
                stoppedWriting.Set();
            }
        });
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Downstream("users", maxResponseBytes: 1024, timeout: TimeSpan.FromSeconds(10))
            .Aggregate("agg", "/agg", a => a.Source("stream", "users", "/stream", required: true), timeout: TimeSpan.FromSeconds(15));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg");

        Assert.False(stoppedWriting.IsSet && !cutOff, "the gateway read the whole body before answering");
        Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
        Assert.Equal("invalid_response", answer.ErrorKind("stream"));
        // The gateway stops reading and drops the connection: the downstream is cut off long before 64 MiB.
        await stoppedWriting.WaitAsync();
        Assert.True(cutOff, $"the downstream wrote all {Interlocked.Read(ref written)} bytes without being cut off");
        Assert.True(Interlocked.Read(ref written) < bodyLimit, $"the downstream could write {Interlocked.Read(ref written)} bytes");
    }
}
