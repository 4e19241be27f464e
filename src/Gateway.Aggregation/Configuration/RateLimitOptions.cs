namespace Gateway.Configuration;

/// <summary>
/// A fixed-window request limit: at most <see cref="PermitLimit"/> requests per <see cref="Window"/>; both are
/// required together. Used per client (<c>Gateway:RateLimiting:PerClient</c>) and per aggregate
/// (<c>Gateway:Aggregates:{name}:RateLimit</c>).
/// </summary>
public sealed record RateLimitOptions
{
    /// <summary>Requests allowed in one window.</summary>
    /// <value>Defaults to none: no limit.</value>
    public int? PermitLimit { get; init; }

    /// <summary>Length of the window, e.g. <c>1s</c> or <c>1m</c>.</summary>
    /// <value>Defaults to none; required with <see cref="PermitLimit"/>.</value>
    public TimeSpan? Window { get; init; }
}
