using System.Threading.RateLimiting;

namespace Gateway.Limits;

/// <summary>
/// <c>Gateway:RateLimiting:PerClient</c>: one fixed window per client address (<see cref="ClientPartition"/>),
/// for every request but those to endpoints marked <c>DisableRateLimiting()</c> (health probes, <c>/metrics</c>,
/// the demo's stand-in downstreams), which ASP.NET Core's rate limiter skips before asking for a partition:
/// management keys cannot be guessed and the OpenAPI document cannot be fetched at any rate. Idle windows are
/// dropped by the partitioned limiter, so memory follows the clients active in the last window, not every
/// address ever seen.
/// </summary>
internal static class PerClientLimiter
{
    public static PartitionedRateLimiter<HttpContext> Create(FixedWindowLimit limit)
    {
        // No timer per window: the partitioned limiter replenishes them all from one (as GetFixedWindowLimiter
        // arranges; built here so that asking for a partition allocates no closure per request).
        var options = new FixedWindowRateLimiterOptions { PermitLimit = limit.PermitLimit, Window = limit.Window, QueueLimit = 0, AutoReplenishment = false };
        Func<UInt128, RateLimiter> create = _ => new FixedWindowRateLimiter(options);
        return PartitionedRateLimiter.Create<HttpContext, UInt128>(context =>
            new RateLimitPartition<UInt128>(ClientPartition.Of(context.Connection.RemoteIpAddress), create));
    }
}
