using System.ComponentModel.DataAnnotations;

namespace Gateway.Configuration;

/// <summary>The background refresh of cached datasets (<c>Gateway:Refresh</c>).</summary>
public sealed record RefreshOptions
{
    /// <summary>Refreshes running at the same time, across all datasets.</summary>
    /// <value>Defaults to 4.</value>
    [Range(1, int.MaxValue)]
    public int Workers { get; init; } = DefaultWorkers;

    internal const int DefaultWorkers = 4;
}
