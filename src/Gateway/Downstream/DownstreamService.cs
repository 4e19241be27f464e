namespace Gateway.Downstream;

/// <summary>One downstream service (a YARP cluster as the aggregates see it): its destinations and limits.</summary>
internal sealed class DownstreamService
{
    private readonly string[] _destinations;
    private uint _next;

    public DownstreamService(string id, IReadOnlyList<string> destinations, ConcurrencyGate gate, TimeSpan? timeout, long maxResponseBytes)
    {
        ArgumentOutOfRangeException.ThrowIfZero(destinations.Count);
        Id = id;
        // Stored without the trailing slash: a source path always starts with one.
        _destinations = [.. destinations.Select(d => d.TrimEnd('/'))];
        Gate = gate;
        Timeout = timeout;
        MaxResponseBytes = maxResponseBytes;
    }

    public string Id { get; }

    public ConcurrencyGate Gate { get; }

    public TimeSpan? Timeout { get; }

    public long MaxResponseBytes { get; }

    /// <summary>Base addresses, without trailing slash.</summary>
    public IReadOnlyList<string> Destinations => _destinations;

    /// <summary>Index of the destination the next call goes to (round robin).</summary>
    public int NextDestination() =>
        _destinations.Length == 1 ? 0 : (int)(Interlocked.Increment(ref _next) % (uint)_destinations.Length);
}
