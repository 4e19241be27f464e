using System.Net;
using System.Threading.RateLimiting;
using Gateway.Downstream;
using Gateway.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Downstream;

/// <summary>
/// The one invoker on its own: a downstream built in code (no configuration, no catalog), YARP's cluster state with a
/// fake handler, a fake clock. What every caller (sources, cached calls, refreshes) gets from it.
/// </summary>
public sealed class DownstreamInvokerTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogger<DownstreamInvoker> _log = new();

    [Fact]
    public async Task Invoke_DownstreamAnswersJson_OkWithTheBodyAndOneAttempt()
    {
        var (invoker, downstream) = Build((_, _) => Task.FromResult(Json("""{"id":1}""")));

        var answer = await invoker.InvokeAsync(Spec(downstream, new StopOnShutdown(CancellationToken.None)));

        Assert.Equal(SourceOutcome.Ok, answer.Result.Outcome);
        Assert.Equal("""{"id":1}""", System.Text.Encoding.UTF8.GetString(answer.Result.Body!.Span));
        Assert.Equal(1, answer.Result.Attempts);
        answer.Result.Body!.Release();
    }

    [Fact]
    public async Task Invoke_NoSlotFreeWithinTheTimeout_TimeoutSayingItWasStillQueued_NothingSent()
    {
        var sent = 0;
        var (invoker, downstream) = Build((_, _) => { Interlocked.Increment(ref sent); return Task.FromResult(Json("{}")); }, permits: 1, queue: 1);
        using var held = downstream.Limiter.AttemptAcquire();

        var call = invoker.InvokeAsync(Spec(downstream, new StopOnShutdown(CancellationToken.None)));
        _time.Advance(TimeSpan.FromSeconds(1));
        var answer = await call;

        Assert.Equal(SourceOutcome.Timeout, answer.Result.Outcome);
        Assert.Contains("timed out while still queued", answer.Result.Message, StringComparison.Ordinal);
        Assert.NotNull(answer.Result.QueuedMs);
        Assert.Equal(0, sent);
    }

    [Fact]
    public async Task Invoke_QueueFull_RejectedCountedWithRetryAfter()
    {
        var (invoker, downstream) = Build((_, _) => Task.FromResult(Json("{}")), permits: 1, queue: 0);
        using var held = downstream.Limiter.AttemptAcquire();

        var answer = await invoker.InvokeAsync(Spec(downstream, new StopOnShutdown(CancellationToken.None)));

        Assert.Equal(SourceOutcome.Rejected, answer.Result.Outcome);
        Assert.Equal(DownstreamInvoker.RejectedRetryAfter, answer.Result.RetryAfter);
        Assert.Equal(1, downstream.Rejected);
    }

    [Fact]
    public async Task Invoke_ShutdownWhileWaiting_CancelledByTheStop_NotATimeout()
    {
        using var stopping = new CancellationTokenSource();
        var (invoker, downstream) = Build(async (_, token) => { await Task.Delay(Timeout.Infinite, token); return Json("{}"); });

        var call = invoker.InvokeAsync(Spec(downstream, new StopOnShutdown(stopping.Token)));
        await stopping.CancelAsync();
        var answer = await call;

        Assert.Equal(SourceOutcome.Cancelled, answer.Result.Outcome);
        Assert.Equal(CallMessages.ShuttingDown, answer.Result.Message);
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.NotFound)]
    public async Task Invoke_DownstreamAnswersAnError_HttpStatusWithItsStatus(HttpStatusCode status)
    {
        var (invoker, downstream) = Build((_, _) => Task.FromResult(Json("{}", status)));

        var answer = await invoker.InvokeAsync(Spec(downstream, new StopOnShutdown(CancellationToken.None)));

        Assert.Equal(SourceOutcome.HttpStatus, answer.Result.Outcome);
        Assert.Equal((int)status, answer.Result.Status);
        Assert.Equal($"downstream 'users' answered HTTP {(int)status}", answer.Result.Message);
    }

    [Fact]
    public async Task Invoke_TransportFails_UnavailableNamingTheDownstream_NotLoggedAsUnexpected()
    {
        var (invoker, downstream) = Build((_, _) => throw new HttpRequestException("connection refused"));

        var answer = await invoker.InvokeAsync(Spec(downstream, new StopOnShutdown(CancellationToken.None)));

        Assert.Equal(SourceOutcome.Unavailable, answer.Result.Outcome);
        Assert.Equal("downstream 'users' could not be reached or dropped the connection", answer.Result.Message);
        Assert.Empty(_log.Collector.GetSnapshot());
    }

    [Fact]
    public async Task Invoke_FailureNobodyExpects_UnavailableAndOneErrorNamingTheDownstreamAndTheCaller()
    {
        var (invoker, downstream) = Build((_, _) => throw new InvalidOperationException("a bug"));

        var answer = await invoker.InvokeAsync(Spec(downstream, new StopOnShutdown(CancellationToken.None)));

        Assert.Equal(SourceOutcome.Unavailable, answer.Result.Outcome);
        var line = Assert.Single(_log.Collector.GetSnapshot());
        Assert.Equal(("CallUnexpectedError", LogLevel.Error), (line.Id.Name, line.Level));
        Assert.Equal("users", line.GetStructuredStateValue("Downstream"));
        Assert.Equal("source 'profile'", line.GetStructuredStateValue("Caller"));
        Assert.IsType<InvalidOperationException>(line.Exception);
    }

    private (DownstreamInvoker Invoker, DownstreamService Downstream) Build(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> handler, int permits = 4, int queue = 4)
    {
        var proxy = new TestProxyState(new FuncHandler(handler));
        proxy.AddCluster("users", "http://users.test/");
        var limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = permits, QueueLimit = queue, QueueProcessingOrder = QueueProcessingOrder.OldestFirst });
        var downstream = new DownstreamService("users", limiter, null, 1024 * 1024, [], "X-Budget", DownstreamResilience.None);
        return (new DownstreamInvoker(new DownstreamClient(proxy, [], [], new CallTransports(Microsoft.Extensions.Options.Options.Create(new Gateway.Configuration.GatewayOptions())), _time), _time, _log), downstream);
    }

    private CallSpec Spec(DownstreamService downstream, ICallStop stop)
    {
        var timeout = TimeSpan.FromMilliseconds(500);
        return new CallSpec(downstream, new CallMessages(downstream, timeout), DownstreamAddress.Fixed("/users/1"), [], timeout, _time.GetTimestamp(), stop) { Caller = "source 'profile'" };
    }

    private static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) => Aggregation.FanOutHarness.Json(json, status);

    private sealed class FuncHandler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> handler) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => handler(request, cancellationToken);
    }
}
