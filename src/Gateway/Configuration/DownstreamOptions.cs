namespace Gateway.Configuration;

/// <summary>Limits for the calls to one downstream cluster, shared by every request.</summary>
public sealed record DownstreamOptions
{
    /// <summary>Calls in flight at once, across all requests.</summary>
    /// <value>Defaults to 100.</value>
    public int MaxConcurrency { get; init; } = 100;

    /// <summary>Calls allowed to wait for a free slot; a call that finds the queue full is rejected at once.</summary>
    /// <value>Defaults to 200.</value>
    public int MaxQueue { get; init; } = 200;

    /// <summary>Timeout of a call to this downstream when its source sets none.</summary>
    /// <value>Defaults to 2 seconds.</value>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Largest response body accepted; a longer one is cut off while streaming.</summary>
    /// <value>Defaults to 1 MiB.</value>
    public long MaxResponseBytes { get; init; } = DefaultMaxResponseBytes;

    internal const long DefaultMaxResponseBytes = 1024 * 1024;
}
