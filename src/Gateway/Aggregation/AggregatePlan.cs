using Gateway.Downstream;
using Microsoft.Extensions.Primitives;

namespace Gateway.Aggregation;

/// <summary>An aggregate bound to the downstreams its sources call; built once at start-up.</summary>
internal sealed class AggregatePlan
{
    private static readonly UriCreationOptions Verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    // Per source, per destination: the address of a source whose path has no placeholders.
    private readonly Uri[]?[] _fixedUris;

    public AggregatePlan(AggregateDefinition definition, IReadOnlyList<DownstreamService> downstreams, IReadOnlyList<string> propagateHeaders)
    {
        Definition = definition;
        Downstreams = [.. downstreams];
        PropagateHeaders = [.. propagateHeaders];
        Messages = [.. definition.Sources.Select((s, i) => new SourceMessages(s, Downstreams[i], definition.Timeout))];
        _fixedUris = [.. definition.Sources.Select((s, i) => s.Path.Constant is { } path
            ? Downstreams[i].Destinations.Select(d => CreateUri(d, path)).ToArray()
            : null)];
    }

    public AggregateDefinition Definition { get; }

    /// <summary>The downstream of each source, by source index.</summary>
    public DownstreamService[] Downstreams { get; }

    public string[] PropagateHeaders { get; }

    /// <summary>The client-facing failure messages of each source, by source index.</summary>
    public SourceMessages[] Messages { get; }

    /// <summary>The address of one call of source <paramref name="source"/>; null when a placeholder has no value.</summary>
    public Uri? GetUri(int source, IPlaceholderValues values, out Placeholder? missing)
    {
        var downstream = Downstreams[source];
        var destination = downstream.NextDestination();
        if (_fixedUris[source] is { } fixedUris)
        {
            missing = null;
            return fixedUris[destination];
        }

        var path = Definition.Sources[source].Path.Render(values, out missing);
        return path is null ? null : CreateUri(downstream.Destinations[destination], path);
    }

    // The path is already encoded segment by segment; canonicalization could only undo that (e.g. %2E%2E).
    private static Uri CreateUri(string destination, string path) => new(destination + path, in Verbatim);
}

/// <summary>What a request brings to the fan-out: client values by index and the headers to propagate.</summary>
internal readonly record struct AggregateRequest(string?[] ClientValues, KeyValuePair<string, StringValues>[] Headers);

/// <summary>
/// A source's failure messages, built once: they name the downstream by cluster id, never by address.
/// </summary>
internal sealed class SourceMessages(SourceDefinition source, DownstreamService downstream, TimeSpan deadline)
{
    public string Timeout { get; } = $"no answer within {Milliseconds(source.Timeout)} ms";

    public string Deadline { get; } = $"cut off by the aggregate's deadline of {Milliseconds(deadline)} ms";

    public string Rejected { get; } = $"downstream '{downstream.Id}' is at its concurrency limit";

    public string Unavailable { get; } = $"downstream '{downstream.Id}' could not be reached or dropped the connection";

    public string TooLarge { get; } = $"response of downstream '{downstream.Id}' is larger than {downstream.MaxResponseBytes} bytes";

    public string NotJson { get; } = $"response of downstream '{downstream.Id}' is not valid JSON";

    public string HttpStatus(int status) => $"downstream '{downstream.Id}' answered HTTP {status}";

    private static string Milliseconds(TimeSpan value) => ((long)value.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
