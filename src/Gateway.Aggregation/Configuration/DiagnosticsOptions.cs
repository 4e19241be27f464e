namespace Gateway.Configuration;

/// <summary>The thread-pool lag monitor (<c>Gateway:Diagnostics</c>).</summary>
public sealed record DiagnosticsOptions
{
    /// <summary>A work item that starts later than this after it was queued logs a Warning with the pool's thread and queue counts.</summary>
    /// <value>Defaults to 100 ms; at least 1 ms.</value>
    public TimeSpan LagWarning { get; init; } = DefaultLagWarning;

    internal static readonly TimeSpan DefaultLagWarning = TimeSpan.FromMilliseconds(100);

    /// <summary>Adds an error naming the key for every value out of range.</summary>
    internal void Check(List<string> errors)
    {
        if (LagWarning < TimeSpan.FromMilliseconds(1))
        {
            errors.Add($"Gateway:Diagnostics:LagWarning: must be at least 1ms (was {LagWarning})");
        }
    }
}
