using Gateway.Caching;
using Gateway.Downstream;
using Gateway.Model;
using Microsoft.Extensions.Primitives;

namespace Gateway.Aggregation;

/// <summary>An aggregate bound to the downstreams its sources call; built once at start-up.</summary>
internal sealed class AggregatePlan
{
    // Per source: the address of a source whose path has no placeholders, per destination.
    private readonly IDownstreamAddress?[] _fixedAddresses;
    private readonly string?[] _fixedPaths;

    public AggregatePlan(AggregateDefinition definition, IReadOnlyList<DownstreamService> downstreams, string budgetHeader, IReadOnlyList<CachedDataset?>? datasets = null)
    {
        Definition = definition;
        BudgetHeader = budgetHeader;
        Downstreams = [.. downstreams];
        Datasets = datasets is null ? new CachedDataset?[definition.Sources.Count] : [.. datasets];
        // A header is read from the request when any source's call to its cluster receives it.
        PropagateHeaders = [.. Downstreams.Where((_, i) => Datasets[i] is null).SelectMany(d => d.PropagateHeaders).Distinct(StringComparer.OrdinalIgnoreCase)];
        Messages = [.. definition.Sources.Select((s, i) => new SourceMessages(s, Downstreams[i], definition.Timeout))];
        _fixedPaths = [.. definition.Sources.Select(s => s.Kind != SourceKind.CachedData ? s.Path.Constant : null)];
        _fixedAddresses = [.. _fixedPaths.Select(path => path is null ? null : DownstreamAddress.Fixed(path))];
        HasCachedCalls = definition.Sources.Any(s => s.Kind == SourceKind.CachedCall);
    }

    /// <summary>Whether some source is a <see cref="SourceKind.CachedCall"/> (the endpoint then reads <c>Authorization</c>).</summary>
    public bool HasCachedCalls { get; }

    public AggregateDefinition Definition { get; }

    /// <summary>The downstream of each source, by source index.</summary>
    public DownstreamService[] Downstreams { get; }

    /// <summary>The dataset of each cached-data source, by source index; null for a call.</summary>
    public CachedDataset?[] Datasets { get; }

    public string[] PropagateHeaders { get; }

    /// <summary>Header in which a client may send its own, shorter, budget (whole milliseconds).</summary>
    public string BudgetHeader { get; }

    /// <summary>The client-facing failure messages of each source, by source index.</summary>
    public SourceMessages[] Messages { get; }

    /// <summary>Where one call of source <paramref name="source"/> goes, on whichever destination; null when a placeholder has no value.</summary>
    public IDownstreamAddress? GetAddress(int source, IPlaceholderValues values, out Placeholder? missing)
    {
        if (_fixedAddresses[source] is { } fixedAddress)
        {
            missing = null;
            return fixedAddress;
        }

        var path = Definition.Sources[source].Path.Render(values, out missing);
        return path is null ? null : DownstreamAddress.Rendered(path);
    }

    /// <summary>Like <see cref="GetAddress(int, IPlaceholderValues, out Placeholder?)"/>, with the expanded path and query (part of a cached call's key).</summary>
    public IDownstreamAddress? GetAddress(int source, IPlaceholderValues values, out Placeholder? missing, out string? path)
    {
        if (_fixedAddresses[source] is { } fixedAddress)
        {
            missing = null;
            path = _fixedPaths[source];
            return fixedAddress;
        }

        path = Definition.Sources[source].Path.Render(values, out missing);
        return path is null ? null : DownstreamAddress.Rendered(path);
    }
}

/// <summary>What a request brings to the fan-out: client values by index, the headers to propagate,
/// the deadline (possibly shortened by the client's budget), the request itself for load balancing, and its
/// <c>Authorization</c> (read only when a source is a cached call: such a request does not use the cache unless allowed).</summary>
internal readonly record struct AggregateRequest(string?[] ClientValues, KeyValuePair<string, StringValues>[] Headers, TimeSpan Deadline, HttpContext? Context = null, StringValues Authorization = default, System.Diagnostics.Activity? Span = null);

/// <summary>
/// A source's failure messages, built once: they name the downstream by cluster id, never by address.
/// </summary>
internal sealed class SourceMessages(SourceDefinition source, DownstreamService downstream, TimeSpan deadline)
{
    /// <summary>What the invoker says about the source's call to its downstream.</summary>
    public CallMessages Call { get; } = new(downstream, source.Timeout);

    /// <summary>Names the source in the log of a failure nobody expects.</summary>
    public string Caller { get; } = $"source '{source.Name}'";

    public string Deadline { get; } = $"cut off by the request's deadline of {Milliseconds(deadline)} ms";

    public string WhileQueued { get; } = ", while still queued for a slot";

    public string FailedFast { get; } = "cancelled: a required source had already failed, so the answer was decided";

    public string NotLoaded { get; } = $"dataset '{source.CachedData}' has not loaded yet";

    /// <summary><paramref name="because"/>: why no newer copy came (<see cref="Caching.CachedDataset.NotRenewedBecause"/>), what really happened.</summary>
    public string Expired(long ageMs, TimeSpan servedFor, string because) =>
        $"the last good copy of dataset '{source.CachedData}' is {ageMs} ms old, past the {Milliseconds(servedFor)} ms it may be served ({because})";

    /// <summary>The deadline message for a request whose client budget shortened the deadline.</summary>
    public string DeadlineOf(TimeSpan shortened) => shortened == deadline ? Deadline : $"cut off by the request's deadline of {Milliseconds(shortened)} ms (the client's budget)";

    public string NoBudget(TimeSpan left, TimeSpan minimum) =>
        $"not called: {Milliseconds(left)} ms left before the deadline, less than the minimum budget of {Milliseconds(minimum)} ms";

    private static string Milliseconds(TimeSpan value) => CallMessages.Milliseconds(value);
}
