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

    public AggregationCatalog(IConfiguration configuration)
    {
        // Bound from the checked copy: a value the binder cannot convert would fail the whole section.
        var normalized = ConfigurationShape.Check(configuration.GetSection("Gateway"), typeof(GatewayOptions), _errors);
        ConfigurationShape.CheckProxyTimeSpans(configuration, _errors);
        var section = new ConfigurationBuilder().AddInMemoryCollection(normalized).Build().GetSection("Gateway");
        Options = Bind(section.Get<GatewayOptions>) ?? new GatewayOptions();
        var clusters = Bind(() => configuration.GetSection("ReverseProxy:Clusters").Get<Dictionary<string, ClusterOptions>>()) ?? [];
        Downstreams = DownstreamRegistry.Create(clusters, Options.Downstreams, _errors);

        for (var i = 0; i < Options.PropagateHeaders.Count; i++)
        {
            var header = Options.PropagateHeaders[i];
            if (string.IsNullOrWhiteSpace(header) || HeaderPropagation.IsHopByHop(header))
            {
                _errors.Add($"Gateway:PropagateHeaders:{i}: '{header}' cannot be propagated (empty, hop-by-hop or connection-specific)");
            }
            else if (header.Equals("Accept", StringComparison.OrdinalIgnoreCase) || header.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                _errors.Add($"Gateway:PropagateHeaders:{i}: '{header}' cannot be propagated (the gateway always asks for JSON and sends no body)");
            }
        }

        var definitions = new List<AggregateDefinition>();
        foreach (var (name, aggregate) in Options.Aggregates)
        {
            if (AggregateCompiler.Compile(name, aggregate, $"Gateway:Aggregates:{name}", Downstreams, _errors) is { } definition)
            {
                definitions.Add(definition);
            }
        }

        Configured = definitions;
    }

    public GatewayOptions Options { get; }

    public DownstreamRegistry Downstreams { get; }

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
        return AggregateCompiler.Compile(name, options, $"MapAggregate(\"{name}\")", Downstreams, errors)
            ?? throw new GatewayConfigurationException(errors);
    }

    public AggregatePlan CreatePlan(AggregateDefinition definition)
    {
        var downstreams = definition.Sources.Select(s => Downstreams.TryGet(s.Cluster, out var d) ? d : throw new InvalidOperationException($"unknown cluster {s.Cluster}"));
        return new AggregatePlan(definition, [.. downstreams], Options.PropagateHeaders);
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
