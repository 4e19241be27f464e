namespace Gateway.Configuration;

/// <summary>Inbound limits on the gateway's own traffic, aggregates and pass-through routes (<c>Gateway:RateLimiting</c>).</summary>
public sealed record RateLimitingOptions
{
    /// <summary>Requests per client address (after trusted proxies' <c>X-Forwarded-For</c>); over it a 429.</summary>
    /// <value>Defaults to no limit.</value>
    public RateLimitOptions PerClient { get; init; } = new();

    /// <summary>Requests handled at the same time; one more is answered 503 at once, never queued.</summary>
    /// <value>Defaults to no limit.</value>
    public int? MaxConcurrentRequests { get; init; }
}
