namespace Gateway.Benchmarks.Baseline;

/// <summary>One downstream call of an aggregate: which client, which path, how long to wait at most.</summary>
internal sealed record SourceCall(string Name, string Client, string Path, TimeSpan Timeout);

/// <summary>The benchmark scenarios, the same as in tests/Benchmarks/gateway.bench.json.</summary>
internal static class Scenarios
{
    /// <summary>Clients of the HTTP/1.1 downstream (<c>--Downstream</c>).</summary>
    public static readonly string[] Http1Clients = ["a", "b", "c"];

    /// <summary>Clients of the downstream's HTTP/2-only cleartext endpoint (<c>--DownstreamH2c</c>).</summary>
    public static readonly string[] H2cClients = ["h2_a", "h2_b", "h2_c"];

    public static readonly string[] DownstreamNames = [.. Http1Clients, .. H2cClients];

    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);

    public static readonly IReadOnlyDictionary<string, SourceCall[]> All = new Dictionary<string, SourceCall[]>(StringComparer.OrdinalIgnoreCase)
    {
        ["fast"] =
        [
            new("a", "a", "/delay/0", DefaultTimeout),
            new("b", "b", "/delay/0", DefaultTimeout),
            new("c", "c", "/delay/0", DefaultTimeout),
        ],
        ["staggered"] =
        [
            new("a", "a", "/delay/20", DefaultTimeout),
            new("b", "b", "/delay/40", DefaultTimeout),
            new("c", "c", "/delay/60", DefaultTimeout),
        ],
        ["hang"] =
        [
            new("a", "a", "/delay/0", DefaultTimeout),
            new("b", "b", "/delay/0", DefaultTimeout),
            new("c", "c", "/hang", TimeSpan.FromMilliseconds(200)),
        ],
        // As "hang", over HTTP/2 cleartext: a timed-out call resets its stream instead of closing a connection.
        ["hang_h2c"] =
        [
            new("a", "h2_a", "/delay/0", DefaultTimeout),
            new("b", "h2_b", "/delay/0", DefaultTimeout),
            new("c", "h2_c", "/hang", TimeSpan.FromMilliseconds(200)),
        ],
    };

    /// <summary>
    /// The sources of <c>/agg/cached</c>: those of "fast", each body kept in IMemoryCache for
    /// <see cref="CachedRefreshInterval"/> (<see cref="CachedAggregator"/>).
    /// </summary>
    public static readonly SourceCall[] Cached = All["fast"];

    /// <summary>As the gateway's datasets in gateway.bench.json (<c>RefreshInterval: 30s</c>).</summary>
    public static readonly TimeSpan CachedRefreshInterval = TimeSpan.FromSeconds(30);

    /// <summary>The scenarios whose clients all have an address.</summary>
    public static IReadOnlyDictionary<string, SourceCall[]> Available(bool h2c) => h2c
        ? All
        : All.Where(s => !s.Value.Any(call => H2cClients.Contains(call.Client)))
            .ToDictionary(s => s.Key, s => s.Value, StringComparer.OrdinalIgnoreCase);
}
