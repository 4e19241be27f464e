using System.Text.Json;
using Gateway.Model;

namespace Gateway.Aggregation;

/// <summary>A validated aggregate, built from configuration or from code; immutable.</summary>
internal sealed record AggregateDefinition
{
    public const int DefaultMaxParallel = 16;

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    public required string Name { get; init; }

    /// <summary>The name of its span, <c>aggregate {name}</c>, built once.</summary>
    public string SpanName => field ??= "aggregate " + Name;

    public required string Route { get; init; }

    public required string Method { get; init; }

    /// <summary>Its summary in the OpenAPI document (<see cref="Configuration.AggregateOptions.Summary"/>); null for the default.</summary>
    public string? Summary { get; init; }

    /// <summary>Its description in the OpenAPI document (<see cref="Configuration.AggregateOptions.Description"/>); null for none.</summary>
    public string? Description { get; init; }

    /// <summary>The whole request's deadline.</summary>
    public required TimeSpan Timeout { get; init; }

    public required int MaxParallel { get; init; }

    /// <summary>Whether a failed required source ends the request at once, cancelling the calls still running.</summary>
    public required bool FailFast { get; init; }

    /// <summary>Requests to this aggregate per window, across all clients; null for no limit.</summary>
    public Limits.FixedWindowLimit? RateLimit { get; init; }

    /// <summary>Sources in the order they were declared; dependencies point into this array.</summary>
    public required IReadOnlyList<SourceDefinition> Sources { get; init; }

    /// <summary>Names of the route or query values the sources use, indexed by <see cref="Placeholder.ClientIndex"/>.</summary>
    public required IReadOnlyList<string> ClientValues { get; init; }

    /// <summary>Whether a client value is needed by some placeholder that is not optional.</summary>
    public required IReadOnlyList<bool> ClientValueRequired { get; init; }

    /// <summary>Whether a client value lands in a path segment somewhere (where "." and ".." are refused).</summary>
    public required IReadOnlyList<bool> ClientValueInPath { get; init; }
}

/// <summary>One source of an aggregate: a downstream call, or a cached dataset read from memory.</summary>
internal sealed record SourceDefinition
{
    public required string Name { get; init; }

    public required int Index { get; init; }

    /// <summary>The name of its span, <c>source {name}</c>, built once.</summary>
    public string SpanName => field ??= "source " + Name;

    public SourceKind Kind { get; init; } = SourceKind.Call;

    /// <summary>The dataset a <see cref="SourceKind.CachedData"/> source reads; null for a call.</summary>
    public string? CachedData { get; init; }

    /// <summary>The response cache in front of a <see cref="SourceKind.CachedCall"/>; null for other kinds.</summary>
    public Caching.ResponseCachePolicy? Cache { get; init; }

    /// <summary>The cluster the data comes from (for cached data, the dataset's).</summary>
    public required string Cluster { get; init; }

    /// <summary>The path called (for cached data, the dataset's).</summary>
    public required PathTemplate Path { get; init; }

    public required bool Required { get; init; }

    /// <summary>This call's own timeout (source's, else downstream's, else 2 s; never above the deadline); zero for cached data, which never waits.</summary>
    public required TimeSpan Timeout { get; init; }

    /// <summary>Indexes of the sources whose JSON this one's path reads.</summary>
    public required IReadOnlyList<int> Inputs { get; init; }

    /// <summary>Indexes of the sources that read this one's JSON.</summary>
    public required IReadOnlyList<int> Dependents { get; init; }

    public required JsonEncodedText EncodedName { get; init; }
}

/// <summary>What kind of thing a source is, i.e. how the fan-out gets its result.</summary>
internal enum SourceKind
{
    /// <summary>A downstream call, made for this request; its body is the request's own (pooled).</summary>
    Call,

    /// <summary>A dataset the gateway keeps in memory; read without waiting, its body shared by every request.</summary>
    CachedData,

    /// <summary>A downstream call with the response cache in front: one call serves every request for the same key; bodies shared.</summary>
    CachedCall,
}
