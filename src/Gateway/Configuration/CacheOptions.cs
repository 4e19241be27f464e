namespace Gateway.Configuration;

/// <summary>The per-source response cache shared by every aggregate (<c>Gateway:Cache</c>).</summary>
public sealed record CacheOptions
{
    /// <summary>Memory the stored answers may take (bodies plus a fixed overhead per entry); the least recently used go first.</summary>
    /// <value>Defaults to 64 MiB.</value>
    public long MaxBytes { get; init; } = DefaultMaxBytes;

    internal const long DefaultMaxBytes = 64L * 1024 * 1024;
}
