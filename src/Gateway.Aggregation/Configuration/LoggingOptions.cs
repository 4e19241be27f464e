namespace Gateway.Configuration;

/// <summary>The gateway's own logging (<c>Gateway:Logging</c>); levels stay in the standard <c>Logging</c> section.</summary>
public sealed record LoggingOptions
{
    /// <summary>Writes the console log as one JSON object per line, scopes (request id, trace id) included.</summary>
    /// <value>Defaults to false (the plain console format).</value>
    public bool Json { get; init; }

    /// <summary>
    /// At most one line per source per interval about its failures (and one about thread-pool lag); the next
    /// line says how many were held back. Zero logs every failure.
    /// </summary>
    /// <value>Defaults to 10 s; at most 1 h.</value>
    public TimeSpan FailureLogInterval { get; init; } = DefaultFailureLogInterval;

    internal static readonly TimeSpan DefaultFailureLogInterval = TimeSpan.FromSeconds(10);

    internal static readonly TimeSpan MaxFailureLogInterval = TimeSpan.FromHours(1);

    /// <summary>Adds an error naming the key for every value out of range.</summary>
    internal void Check(List<string> errors)
    {
        if (FailureLogInterval < TimeSpan.Zero || FailureLogInterval > MaxFailureLogInterval)
        {
            errors.Add($"Gateway:Logging:FailureLogInterval: must be between 0s and 1h (was {FailureLogInterval})");
        }
    }
}
