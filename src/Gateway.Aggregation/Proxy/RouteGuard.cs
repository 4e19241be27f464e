using System.Globalization;
using Gateway.Aggregation;
using Gateway.Downstream;
using Microsoft.AspNetCore.Http.Timeouts;
using Polly.CircuitBreaker;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Proxy;

/// <summary>
/// What the gateway adds to YARP's pipeline for a pass-through route: the request's deadline (the client's
/// budget, else the route's <c>Timeout</c>) carried downstream and enforced, the cluster's concurrency limit,
/// and its circuit breaker, the same one aggregate calls go through. Retries and hedging are not applied:
/// a proxied body streams and cannot be sent twice.
/// </summary>
internal sealed class RouteGuard(RequestDelegate next, AggregationCatalog catalog, RouteFailureLog failures, TimeProvider timeProvider)
{
    private readonly string _budgetHeader = catalog.Options.Deadline.Header;
    private readonly TimeSpan _minBudget = catalog.Options.Deadline.MinBudget;

    public async Task InvokeAsync(HttpContext context)
    {
        var clusterId = context.GetReverseProxyFeature().Cluster.Config.ClusterId;
        catalog.Downstreams.TryGet(clusterId, out var downstream);

        var deadline = Deadline(context, out var routeTimeout, out var clientsBudget);
        RouteTimer? timer = null;
        if (deadline is { } budget)
        {
            if (budget < _minBudget)
            {
                await RefuseAsync(context, StatusCodes.Status504GatewayTimeout, "Deadline too short",
                    $"{(long)budget.TotalMilliseconds} ms left, less than the minimum budget of {(long)_minBudget.TotalMilliseconds} ms", null).ConfigureAwait(false);
                return;
            }

            timer = new RouteTimer(context, budget, clientsBudget ? routeTimeout : budget, timeProvider);
        }

        var clientAborted = timer?.ClientAborted ?? context.RequestAborted;
        try
        {
            if (downstream is null)
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            using var lease = await DownstreamInvoker.EnterAsync(downstream, context.RequestAborted).ConfigureAwait(false);
            if (!lease.IsAcquired)
            {
                await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Downstream at its limit",
                    downstream.RouteMessages.Rejected, DownstreamInvoker.RejectedRetryAfter).ConfigureAwait(false);
                return;
            }

            if (downstream.Resilience.Breaker is not { } breaker)
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            try
            {
                await breaker.ExecuteAsync(
                    static async (state, _) =>
                    {
                        if (state.circuit?.CircuitState == CircuitState.HalfOpen)
                        {
                            // This request is the probe: its verdict closes or reopens the circuit for everyone.
                            state.timer?.WaiveClientsBudget();
                        }

                        await state.next(state.context).ConfigureAwait(false);
                        return Classify(state.context, state.timer, state.clientAborted);
                    },
                    (next, context, timer, clientAborted, circuit: downstream.Resilience.BreakerState),
                    CancellationToken.None).ConfigureAwait(false);
            }
            catch (BrokenCircuitException ex)
            {
                // The invoker's verdict, as for a source: what the refusal says and when to come back.
                var refused = DownstreamInvoker.Classify(ex, downstream, downstream.RouteMessages, 0)!;
                await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Circuit open", refused.Message!, refused.RetryAfter).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (timer?.Passed == true && !context.Response.HasStarted)
        {
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
        }
        finally
        {
            // Our deadline cancels RequestAborted, so YARP takes it for the client leaving and answers 400 (or
            // 502 when the cancellation reached it another way): whatever it reported, the deadline passed.
            var error = context.Features.Get<IForwarderErrorFeature>();
            if (timer?.Passed == true && !context.Response.HasStarted && error is not null)
            {
                context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
            }

            if (downstream is not null && (error is not null || timer?.Passed == true))
            {
                failures.Report(context.GetReverseProxyFeature().Route.Config.RouteId, downstream, error?.Error, timer?.Passed == true);
            }

            if (timer is not null)
            {
                await timer.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    // The client's budget, else the route's own timeout, whichever is lower; null when there is neither.
    private TimeSpan? Deadline(HttpContext context, out TimeSpan? routeTimeout, out bool clientsBudget)
    {
        routeTimeout = context.GetEndpoint()?.Metadata.GetMetadata<RequestTimeoutAttribute>()?.Timeout;
        clientsBudget = RequestBudget.TryRead(context.Request.Headers, _budgetHeader, out var budget) && (routeTimeout is null || budget < routeTimeout);
        return clientsBudget ? budget : routeTimeout;
    }

    /// <summary>
    /// What a proxied request says about the downstream, by the rule aggregate calls follow too: a cut-off by the
    /// request's deadline (the client's budget, the route's <c>Timeout</c>) or by the client leaving is no evidence
    /// against it, only what the downstream answered before it is (a route has no timeout of its own besides YARP's
    /// <c>ActivityTimeout</c>, which is the transport's). Polly has no neutral outcome: no evidence counts as
    /// a call that did not fail. Its failures are the transport's (YARP's errors on the downstream's side, its
    /// <c>ActivityTimeout</c> included) and 408, 429 and 5xx.
    /// </summary>
    private static DownstreamResponse Classify(HttpContext context, RouteTimer? timer, CancellationToken clientAborted)
    {
        // The client left, or the deadline passed (the guard's timer enforces the route's Timeout too).
        if (clientAborted.IsCancellationRequested || timer?.Passed == true)
        {
            return context.Response.HasStarted && DownstreamResponse.IsTransientStatus(context.Response.StatusCode)
                ? DownstreamResponse.ProxiedFailure
                : DownstreamResponse.ProxiedSuccess;
        }

        if (context.Features.Get<IForwarderErrorFeature>() is { } error)
        {
            return error.Error is ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.RequestBodyDestination
                or ForwarderError.ResponseBodyDestination ? DownstreamResponse.ProxiedFailure : DownstreamResponse.ProxiedSuccess;
        }

        return DownstreamResponse.IsTransientStatus(context.Response.StatusCode) ? DownstreamResponse.ProxiedFailure : DownstreamResponse.ProxiedSuccess;
    }

    private static Task RefuseAsync(HttpContext context, int status, string title, string detail, TimeSpan? retryAfter)
    {
        if (retryAfter is { } after)
        {
            context.Response.Headers.RetryAfter = RequestBudget.WholeSeconds(after);
        }

        return Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);
    }
}

/// <summary>When a proxied request started and how long it may take, for the budget header on the way out.</summary>
internal sealed record RouteDeadline(long StartedAt, TimeSpan Budget)
{
    public string TimeLeft(TimeProvider timeProvider)
    {
        var left = Budget - timeProvider.GetElapsedTime(StartedAt);
        return Math.Max(0, (long)left.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// A route's deadline, enforced by a timer on the injected <see cref="TimeProvider"/> that cancels
/// <c>RequestAborted</c> (YARP's token for the proxied request) when it passes or the client leaves.
/// </summary>
internal sealed class RouteTimer : IAsyncDisposable
{
    private readonly HttpContext _context;
    private readonly TimeProvider _timeProvider;
    private readonly long _startedAt;
    private readonly TimeSpan? _probeBudget;
    private CancellationTokenSource _timer;
    private CancellationTokenRegistration _link;
    private CancellationTokenSource? _waived;
    private TimeSpan? _budget;

    /// <param name="probeBudget">The deadline as the breaker's probe: the route's own <c>Timeout</c> (null: none) when the client's budget is shorter.</param>
    public RouteTimer(HttpContext context, TimeSpan budget, TimeSpan? probeBudget, TimeProvider timeProvider)
    {
        _context = context;
        _timeProvider = timeProvider;
        _startedAt = timeProvider.GetTimestamp();
        _probeBudget = probeBudget;
        // One timer decides: this one enforces the route's Timeout (or the shorter client budget) itself. ASP.NET Core's
        // own for the route's Timeout would fire at the same moment, through the client's token, and race it: taken
        // for the client leaving, the answer was YARP's 400, not 504.
        context.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
        ClientAborted = context.RequestAborted;
        context.Features.Set(new RouteDeadline(_startedAt, budget));
        _timer = new CancellationTokenSource(budget, timeProvider);
        _link = ClientAborted.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _timer);
        context.RequestAborted = _timer.Token;
        _budget = budget;
    }

    /// <summary>The client's own token (ASP.NET Core's timer for the route's <c>Timeout</c> is off: this one enforces it).</summary>
    public CancellationToken ClientAborted { get; }

    /// <summary>The deadline passed (the client is still there).</summary>
    public bool Passed => _timer.IsCancellationRequested && !ClientAborted.IsCancellationRequested;

    /// <summary>
    /// As the half-open probe, a request whose deadline is the client's budget runs to the route's own <c>Timeout</c>
    /// instead (or without deadline when the route has none): cut off by a budget, the probe would tell the breaker
    /// nothing, and a client with tiny budgets would decide the circuit for everyone.
    /// </summary>
    public void WaiveClientsBudget()
    {
        if (_probeBudget == _budget)
        {
            return;
        }

        var elapsed = _timeProvider.GetElapsedTime(_startedAt);
        var timer = _probeBudget is { } probeBudget
            ? new CancellationTokenSource(probeBudget > elapsed ? probeBudget - elapsed : TimeSpan.Zero, _timeProvider)
            : new CancellationTokenSource();
        _link.Dispose();
        _waived = _timer;
        _timer = timer;
        _link = ClientAborted.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _timer);
        _context.RequestAborted = _timer.Token;
        _budget = _probeBudget;
        _context.Features.Set(_probeBudget is { } budget ? new RouteDeadline(_startedAt, budget) : null);
    }

    public async ValueTask DisposeAsync()
    {
        await _link.DisposeAsync().ConfigureAwait(false);
        _context.RequestAborted = ClientAborted;
        _timer.Dispose();
        _waived?.Dispose();
    }
}
