using Gateway.Configuration;

namespace Gateway.Aggregation;

/// <summary>Builds an aggregate in code: the same <see cref="AggregateOptions"/> the configuration binds.</summary>
public sealed class AggregateBuilder
{
    private readonly Dictionary<string, SourceOptions> _sources = [];
    private AggregateOptions _options;

    internal AggregateBuilder(string route) => _options = new AggregateOptions { Route = route };

    /// <summary>The HTTP method the aggregate answers (default <c>GET</c>).</summary>
    public AggregateBuilder WithMethod(string method)
    {
        _options = _options with { Method = method };
        return this;
    }

    /// <summary>The whole request's deadline.</summary>
    public AggregateBuilder WithTimeout(TimeSpan timeout)
    {
        _options = _options with { Timeout = timeout };
        return this;
    }

    /// <summary>How many of the aggregate's sources may be called at the same time for one request.</summary>
    public AggregateBuilder WithMaxParallel(int maxParallel)
    {
        _options = _options with { MaxParallel = maxParallel };
        return this;
    }

    /// <summary>Whether a failed required source ends the request at once (default true).</summary>
    public AggregateBuilder WithFailFast(bool failFast)
    {
        _options = _options with { FailFast = failFast };
        return this;
    }

    /// <summary>At most <paramref name="permitLimit"/> requests to this aggregate per <paramref name="window"/>, across all clients; over it a 429.</summary>
    public AggregateBuilder WithRateLimit(int permitLimit, TimeSpan window)
    {
        _options = _options with { RateLimit = new RateLimitOptions { PermitLimit = permitLimit, Window = window } };
        return this;
    }

    /// <summary>The operation's summary in the OpenAPI document (default <c>Aggregate {name}</c>).</summary>
    public AggregateBuilder WithSummary(string summary)
    {
        _options = _options with { Summary = summary };
        return this;
    }

    /// <summary>What the aggregate is for (Markdown), above the generated account of its sources in the OpenAPI document.</summary>
    public AggregateBuilder WithDescription(string description)
    {
        _options = _options with { Description = description };
        return this;
    }

    /// <summary>Adds a source calling <paramref name="path"/> on cluster <paramref name="cluster"/>.</summary>
    public AggregateBuilder AddSource(string name, string cluster, string path, bool required = false, TimeSpan? timeout = null)
    {
        _sources.Add(name, new SourceOptions { Cluster = cluster, Path = path, Required = required, Timeout = timeout });
        return this;
    }

    internal AggregateOptions Build() => _options with { Sources = new Dictionary<string, SourceOptions>(_sources) };
}
