using System.Globalization;
using Gateway.Aggregation;
using Gateway.Downstream;
using Microsoft.AspNetCore.Http.Timeouts;
using Polly;
using Polly.CircuitBreaker;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Proxy;

/// <summary>
/// What the gateway adds to YARP's pipeline for a pass-through route: the request's deadline (the client's
/// budget, else the route's <c>Timeout</c>) carried downstream and enforced, the cluster's concurrency limit,
/// and its circuit breaker, the same one aggregate calls go through. Retries and hedging are not applied:
/// a proxied body streams and cannot be sent twice.
/// </summary>
internal sealed class RouteGuard(RequestDelegate next, AggregationCatalog catalog, TimeProvider timeProvider)
{
    private readonly string _budgetHeader = catalog.Options.Deadline.Header;
    private readonly TimeSpan _minBudget = catalog.Options.Deadline.MinBudget;

    public async Task InvokeAsync(HttpContext context)
    {
        var clusterId = context.GetReverseProxyFeature().Cluster.Config.ClusterId;
        catalog.Downstreams.TryGet(clusterId, out var downstream);

        var deadline = Deadline(context);
        var clientAborted = context.RequestAborted;
        CancellationTokenSource? timer = null;
        CancellationTokenRegistration link = default;
        if (deadline is { } budget)
        {
            if (budget < _minBudget)
            {
                await RefuseAsync(context, StatusCodes.Status504GatewayTimeout, "Deadline too short",
                    $"{(long)budget.TotalMilliseconds} ms left, less than the minimum budget of {(long)_minBudget.TotalMilliseconds} ms", null).ConfigureAwait(false);
                return;
            }

            context.Features.Set(new RouteDeadline(timeProvider.GetTimestamp(), budget));
            timer = new CancellationTokenSource(budget, timeProvider);
            link = clientAborted.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timer);
            context.RequestAborted = timer.Token;
        }

        try
        {
            if (downstream is null)
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            using var lease = await downstream.Limiter.AcquireAsync(1, context.RequestAborted).ConfigureAwait(false);
            if (!lease.IsAcquired)
            {
                downstream.CountRejected();
                await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Downstream at its limit",
                    $"downstream '{downstream.Id}' is at its concurrency limit", TimeSpan.FromSeconds(1)).ConfigureAwait(false);
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
                        await state.next(state.context).ConfigureAwait(false);
                        return Classify(state.context, state.timer, state.clientAborted);
                    },
                    (next, context, timer, clientAborted),
                    CancellationToken.None).ConfigureAwait(false);
            }
            catch (BrokenCircuitException ex)
            {
                await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Circuit open",
                    $"downstream '{downstream.Id}' is failing: its circuit breaker is open, the request was not sent",
                    ex.RetryAfter ?? downstream.Resilience.BreakDuration).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (DeadlinePassed(timer, clientAborted) && !context.Response.HasStarted)
        {
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
        }
        finally
        {
            // Our deadline cancels RequestAborted, so YARP takes it for the client leaving and answers 400 (or
            // 502 when the cancellation reached it another way): whatever it reported, the deadline passed.
            if (DeadlinePassed(timer, clientAborted) && !context.Response.HasStarted && context.Features.Get<IForwarderErrorFeature>() is not null)
            {
                context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
            }

            if (timer is not null)
            {
                await link.DisposeAsync().ConfigureAwait(false);
                context.RequestAborted = clientAborted;
                timer.Dispose();
            }
        }
    }

    // The client's budget, else the route's own timeout, whichever is lower; null when there is neither.
    private TimeSpan? Deadline(HttpContext context)
    {
        TimeSpan? deadline = null;
        if (context.GetEndpoint()?.Metadata.GetMetadata<RequestTimeoutAttribute>() is { Timeout: { } routeTimeout })
        {
            deadline = routeTimeout;
        }

        if (RequestBudget.TryRead(context.Request.Headers, _budgetHeader, out var budget) && (deadline is null || budget < deadline))
        {
            deadline = budget;
        }

        return deadline;
    }

    private static bool DeadlinePassed(CancellationTokenSource? timer, CancellationToken clientAborted) =>
        timer?.IsCancellationRequested == true && !clientAborted.IsCancellationRequested;

    private static DownstreamResponse Classify(HttpContext context, CancellationTokenSource? timer, CancellationToken clientAborted)
    {
        // The downstream failed us, or was too slow for the deadline; a client that left says nothing about it.
        if (DeadlinePassed(timer, clientAborted))
        {
            return DownstreamResponse.ProxiedFailure;
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
