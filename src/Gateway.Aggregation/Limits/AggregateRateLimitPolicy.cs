using System.Threading.RateLimiting;
using Gateway.Telemetry;
using Microsoft.AspNetCore.RateLimiting;

namespace Gateway.Limits;

/// <summary>
/// <c>Gateway:Aggregates:{name}:RateLimit</c> as an endpoint policy of ASP.NET Core's rate limiter: one fixed
/// window for the aggregate, shared by all clients (it protects the aggregate's downstreams; fairness between
/// clients is the per-client limit's job).
/// </summary>
internal sealed class AggregateRateLimitPolicy(string aggregate, FixedWindowLimit limit, TimeProvider clock, GatewayMetrics metrics, ILogger logger) : IRateLimiterPolicy<string>
{
    private readonly Func<string, FixedWindowRateLimiterOptions> _options = _ => new FixedWindowRateLimiterOptions
    {
        PermitLimit = limit.PermitLimit,
        Window = limit.Window,
        QueueLimit = 0,
    };

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = LimitRejection.OnRateLimited("aggregate", clock, metrics, logger);

    public RateLimitPartition<string> GetPartition(HttpContext httpContext) => RateLimitPartition.GetFixedWindowLimiter(aggregate, _options);
}
