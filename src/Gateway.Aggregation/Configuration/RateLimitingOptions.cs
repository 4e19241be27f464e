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

    /// <summary>
    /// The kernel's send buffer of each client connection, in bytes (Linux reserves twice this for its own
    /// bookkeeping); <c>0</c> leaves it to the operating system's autotuning. Bytes in it count as read by the client
    /// for <c>Kestrel:Limits:MinResponseDataRate</c>, so the smaller it is, the sooner a slow reader is cut.
    /// </summary>
    /// <value>Defaults to 65536 (64 KiB).</value>
    public int? SocketSendBufferBytes { get; init; }
}
