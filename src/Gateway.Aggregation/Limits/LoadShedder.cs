using System.Threading.RateLimiting;
using Gateway.Model;
using Gateway.Telemetry;

namespace Gateway.Limits;

/// <summary>
/// <c>Gateway:RateLimiting:MaxConcurrentRequests</c>: at most so many requests of the gateway's traffic in
/// flight; one more is answered 503 at once. Nothing waits: a queue in front of a saturated gateway only
/// adds latency to every answer and memory for every socket (the overload benchmark shows it).
/// </summary>
internal sealed class LoadShedder
{
    private readonly RequestDelegate _next;
    private readonly ConcurrencyLimiter _limiter;
    private readonly TimeProvider _clock;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<LoadShedder> _logger;

    public LoadShedder(RequestDelegate next, int maxConcurrentRequests, TimeProvider clock, GatewayMetrics metrics, ILogger<LoadShedder> logger)
    {
        _next = next;
        _clock = clock;
        _metrics = metrics;
        _logger = logger;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = maxConcurrentRequests, QueueLimit = 0 });
    }

    public async Task InvokeAsync(HttpContext context)
    {
        if (!GatewayTraffic.Is(context))
        {
            await _next(context).ConfigureAwait(false);
            return;
        }

        using var lease = _limiter.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            Log.RequestShed(_logger, context.Request.Method, context.GetEndpoint()?.DisplayName);
            await LimitRejection.WriteOverloadedAsync(context, _clock, _metrics).ConfigureAwait(false);
            return;
        }

        await _next(context).ConfigureAwait(false);
    }
}
