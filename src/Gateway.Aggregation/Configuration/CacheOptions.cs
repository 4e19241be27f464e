using System.ComponentModel.DataAnnotations;

namespace Gateway.Configuration;

/// <summary>What the gateway caches and where it shares it (<c>Gateway:Cache</c>).</summary>
public sealed record CacheOptions
{
    /// <summary>
    /// A StackExchange.Redis connection string (<c>127.0.0.1:6379</c>, <c>host:6379,password=...</c>). When set,
    /// cached datasets are shared by every gateway instance that names the same Redis: each is refreshed once per
    /// interval across all of them; so are the response cache's answers (a second level and a backplane). Without it
    /// everything stays in this instance's memory.
    /// </summary>
    /// <value>Defaults to none.</value>
    public string? Redis { get; init; }

    /// <summary>Memory the per-source response cache may hold, in bytes; least recently used entries go first.</summary>
    /// <value>Defaults to 64 MiB.</value>
    [Range(1L, long.MaxValue)]
    public long MaxBytes { get; init; } = DefaultMaxBytes;

    internal const long DefaultMaxBytes = 64L * 1024 * 1024;
}
