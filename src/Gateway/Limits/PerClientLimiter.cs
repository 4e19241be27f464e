using System.Threading.RateLimiting;

namespace Gateway.Limits;

/// <summary>
/// <c>Gateway:RateLimiting:PerClient</c>: one fixed window per client address (<see cref="ClientPartition"/>),
/// for the gateway's traffic only. Idle windows are dropped by the partitioned limiter, so memory follows the
/// clients active in the last window, not every address ever seen.
/// </summary>
internal static class PerClientLimiter
{
    // Not a key ClientPartition can produce: the gateway's own endpoints share one partition without a limit.
    private static readonly UInt128 Exempt = UInt128.MaxValue - 1;

    public static PartitionedRateLimiter<HttpContext> Create(FixedWindowLimit limit)
    {
        var options = new FixedWindowRateLimiterOptions { PermitLimit = limit.PermitLimit, Window = limit.Window, QueueLimit = 0 };
        return PartitionedRateLimiter.Create<HttpContext, UInt128>(context => GatewayTraffic.Is(context)
            ? RateLimitPartition.GetFixedWindowLimiter(ClientPartition.Of(context.Connection.RemoteIpAddress), _ => options)
            : RateLimitPartition.GetNoLimiter(Exempt));
    }
}
