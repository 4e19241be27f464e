namespace Gateway.Benchmarks.Baseline;

/// <summary>One downstream call of an aggregate: which client, which path, how long to wait at most.</summary>
internal sealed record SourceCall(string Name, string Client, string Path, TimeSpan Timeout);

/// <summary>The three benchmark scenarios, the same as in tests/Benchmarks/gateway.bench.json.</summary>
internal static class Scenarios
{
    public static readonly string[] DownstreamNames = ["a", "b", "c"];

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
    };
}
