using Gateway.Configuration;
using Gateway.Downstream;

namespace Gateway.Aggregation;

/// <summary>
/// The validated gateway configuration: the downstream registry and the aggregate definitions, built once
/// from the <c>ReverseProxy:Clusters</c> and <c>Gateway</c> sections. Code-first aggregates go through the
/// same compiler.
/// </summary>
internal sealed class AggregationCatalog
{
    private readonly List<string> _errors = [];

    private readonly EndpointClaims _claims = new();
    private int _mapped;

    public AggregationCatalog(IConfiguration configuration, TimeProvider timeProvider)
    {
        // Bound from the checked copy: a value the binder cannot convert would fail the whole section.
        var normalized = ConfigurationShape.Check(configuration.GetSection("Gateway"), typeof(GatewayOptions), _errors);
        ConfigurationShape.CheckProxyTimeSpans(configuration, _errors);
        var section = new ConfigurationBuilder().AddInMemoryCollection(normalized).Build().GetSection("Gateway");
        Options = Bind(section.Get<GatewayOptions>) ?? new GatewayOptions();
        var clusters = Bind(() => configuration.GetSection("ReverseProxy:Clusters").Get<Dictionary<string, ClusterOptions>>()) ?? [];
        Downstreams = DownstreamRegistry.Create(clusters, Options, timeProvider, _errors);
        RouteCount = configuration.GetSection("ReverseProxy:Routes").GetChildren().Count();
        _claims.ClaimProxyRoutes(configuration.GetSection("ReverseProxy:Routes"), _errors);
        CheckDeadline(Options.Deadline);

        for (var i = 0; i < Options.PropagateHeaders.Count; i++)
        {
            HeaderPropagation.CheckConfigured(Options.PropagateHeaders[i], $"Gateway:PropagateHeaders:{i}", _errors);
        }

        var definitions = new List<AggregateDefinition>();
        foreach (var (name, aggregate) in Options.Aggregates)
        {
            var key = $"Gateway:Aggregates:{name}";
            if (AggregateCompiler.Compile(name, aggregate, key, Downstreams, _errors) is { } definition
                && _claims.Claim(definition.Route, [definition.Method], key, _errors))
            {
                definitions.Add(definition);
            }
        }

        Configured = definitions;
    }

    public GatewayOptions Options { get; }

    public DownstreamRegistry Downstreams { get; }

    /// <summary>Pass-through routes declared under <c>ReverseProxy:Routes</c>.</summary>
    public int RouteCount { get; }

    /// <summary>Aggregates mapped so far, configured and code-first.</summary>
    public int MappedCount => Volatile.Read(ref _mapped);

    /// <summary>The aggregates declared in configuration.</summary>
    public IReadOnlyList<AggregateDefinition> Configured { get; }

    /// <summary>Throws when the configuration had any problem, naming every offending key.</summary>
    public void ThrowIfInvalid()
    {
        if (_errors.Count > 0)
        {
            throw new GatewayConfigurationException(_errors);
        }
    }

    public AggregateDefinition Compile(string name, AggregateOptions options)
    {
        var errors = new List<string>();
        var key = $"MapAggregate(\"{name}\")";
        var definition = AggregateCompiler.Compile(name, options, key, Downstreams, errors);
        lock (_claims)
        {
            if (definition is not null && !_claims.Claim(definition.Route, [definition.Method], key, errors))
            {
                definition = null;
            }
        }

        return definition ?? throw new GatewayConfigurationException(errors);
    }

    public AggregatePlan CreatePlan(AggregateDefinition definition)
    {
        var downstreams = definition.Sources.Select(s => Downstreams.TryGet(s.Cluster, out var d) ? d : throw new InvalidOperationException($"unknown cluster {s.Cluster}"));
        Interlocked.Increment(ref _mapped);
        return new AggregatePlan(definition, [.. downstreams], Options.Deadline.Header);
    }

    private void CheckDeadline(DeadlineOptions deadline)
    {
        if (string.IsNullOrWhiteSpace(deadline.Header) || deadline.Header.Any(c => c <= ' ' || c >= 127 || "()<>@,;:\\\"/[]?={}".Contains(c)))
        {
            _errors.Add($"Gateway:Deadline:Header: '{deadline.Header}' is not a valid header name");
        }
        else if (HeaderPropagation.IsHopByHop(deadline.Header) || Options.PropagateHeaders.Contains(deadline.Header, StringComparer.OrdinalIgnoreCase))
        {
            _errors.Add($"Gateway:Deadline:Header: '{deadline.Header}' cannot be the budget header (hop-by-hop, or propagated as is)");
        }

        if (deadline.MinBudget < TimeSpan.Zero)
        {
            _errors.Add($"Gateway:Deadline:MinBudget: must not be negative (was {deadline.MinBudget})");
        }
    }

    private T? Bind<T>(Func<T?> bind)
    {
        try
        {
            return bind();
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the key and the value it could not convert.
            _errors.Add(ex.InnerException is null ? ex.Message : $"{ex.Message} {ex.InnerException.Message}");
            return default;
        }
    }
}
