using Gateway.Model;
using Yarp.ReverseProxy.Model;

namespace Gateway.Shutdown;

/// <summary>
/// Counts the gateway's traffic in flight for the drain, and cuts a pass-through route still running when the
/// drain is over: its <c>RequestAborted</c> then fires (YARP cancels the downstream call, which counts for
/// nothing against the downstream), and an answer not yet started becomes 503 problem+json <c>cancelled</c>.
/// Aggregates are cut by the fan-out itself (it listens to <see cref="ShutdownDrain.Expired"/>).
/// </summary>
internal sealed class ShutdownDrainMiddleware(RequestDelegate next, ShutdownDrain drain)
{
    public Task InvokeAsync(HttpContext context) => GatewayTraffic.Is(context) ? CountedAsync(context) : next(context);

    // One state machine per request for both kinds of traffic (a route's used to take a second one).
    private async Task CountedAsync(HttpContext context)
    {
        drain.Enter();
        try
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>() is null)
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            var clientAborted = context.RequestAborted;
            using var cut = CancellationTokenSource.CreateLinkedTokenSource(clientAborted, drain.Expired);
            context.RequestAborted = cut.Token;
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (CutByDrain(context, clientAborted))
            {
                // Answered below.
            }
            finally
            {
                context.RequestAborted = clientAborted;
            }

            if (CutByDrain(context, clientAborted))
            {
                // YARP took the cancellation for the client leaving and set a status of its own, with no body.
                context.Features.Set<Yarp.ReverseProxy.Forwarder.IForwarderErrorFeature>(null);
                context.Response.Clear();
                context.Response.Headers.RetryAfter = "1";
                await Results.Problem(
                    statusCode: StatusCodes.Status503ServiceUnavailable,
                    title: "Shutting down",
                    detail: $"cancelled: the gateway is shutting down and the request did not finish within Gateway:Shutdown:DrainTimeout ({(long)drain.DrainTimeout.TotalMilliseconds} ms)")
                    .ExecuteAsync(context).ConfigureAwait(false);
            }
        }
        finally
        {
            drain.Exit();
        }
    }

    private bool CutByDrain(HttpContext context, CancellationToken clientAborted) =>
        drain.Expired.IsCancellationRequested && !clientAborted.IsCancellationRequested && !context.Response.HasStarted;
}
