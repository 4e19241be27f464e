using Gateway.Caching;
using Gateway.Configuration;
using Gateway.Downstream;
using Gateway.Limits;

namespace Gateway.Aggregation;

/// <summary>
/// The validated gateway configuration: the downstream registry, the cached datasets and the aggregate
/// definitions, built once from the <c>Gateway</c> section and the clusters YARP declares. Code-first aggregates go through the
/// same compiler.
/// </summary>
internal sealed class AggregationCatalog
{
    private readonly List<string> _errors = [];
    private Action<List<string>>? _deferredCheck;

    private readonly EndpointClaims _claims = new();
    private int _mapped;

    /// <summary>From a whole configuration (<c>Gateway</c> and <c>ReverseProxy</c> sections, Kestrel's limits), for tests and tools without a container.</summary>
    /// <param name="reserved">The features' own endpoints (<see cref="IReservedEndpoints"/>), which aggregates may not take.</param>
    public AggregationCatalog(IConfiguration configuration, TimeProvider timeProvider, IEnumerable<IReservedEndpoints>? reserved = null)
        : this(configuration.GetSection("Gateway"), errors => ProxyDeclarations.FromSection(configuration.GetSection("ReverseProxy"), errors), timeProvider, reserved, [new HostConfigurationCheck(configuration)])
    {
    }

    /// <param name="gateway">The engine's section (<c>Gateway</c> in the gateway's own file).</param>
    /// <param name="proxy">The clusters and routes YARP declares, read once the checks of <paramref name="checks"/> have run.</param>
    /// <param name="timeProvider">The clock of every timeout and limit.</param>
    /// <param name="reserved">The features' own endpoints (<see cref="IReservedEndpoints"/>), which aggregates may not take.</param>
    /// <param name="checks">Checks of configuration outside the section (the host's), reported with the engine's own.</param>
    /// <param name="deferredCheck">
    /// A check that needs services which themselves need this catalog (YARP's validator, whose policies read the
    /// gateway's options): run once, when <see cref="ThrowIfInvalid"/> is first called.
    /// </param>
    public AggregationCatalog(
        IConfigurationSection gateway,
        Func<List<string>, ProxyDeclarations> proxy,
        TimeProvider timeProvider,
        IEnumerable<IReservedEndpoints>? reserved = null,
        IEnumerable<IConfigurationCheck>? checks = null,
        Action<List<string>>? deferredCheck = null)
    {
        _deferredCheck = deferredCheck;
        // Bound from the checked copy: a value the binder cannot convert would fail the whole section.
        var normalized = ConfigurationShape.Check(gateway, typeof(GatewayOptions), _errors);
        var section = new ConfigurationBuilder().AddInMemoryCollection(normalized).Build().GetSection(gateway.Path);
        Options = Bind(section.Get<GatewayOptions>) ?? new GatewayOptions();
        ResilienceOptions.KeepEmptyStrategies(Options, section);
        foreach (var check in checks ?? [])
        {
            check.Check(Options, _errors);
        }

        var declared = proxy(_errors);
        Downstreams = DownstreamRegistry.Create(declared.Clusters, Options, timeProvider, _errors);
        RouteCount = declared.Routes.Count;
        _claims.ClaimProxyRoutes(declared.Routes, _errors);
        foreach (var endpoint in (reserved ?? []).SelectMany(r => r.Reserve(Options)))
        {
            // An aggregate on one of these paths would make every request to it ambiguous.
            _claims.Claim(endpoint.Path, endpoint.Methods, endpoint.Owner, _errors);
        }

        // The ranges declared on the options records, by the source-generated validator.
        _errors.AddRange(GatewayOptionsValidator.KeyedFailures(Options, gateway.Path));
        CheckDeadline(Options.Deadline);
        Datasets = DatasetRegistry.Create(Options.CachedData, Downstreams, timeProvider, _errors);
        CheckManagement();
        Options.Logging.Check(_errors);
        Options.Diagnostics.Check(_errors);
        Options.Shutdown.Check(_errors);
        Limits = InboundLimits.Create(Options, _errors);

        for (var i = 0; i < Options.PropagateHeaders.Count; i++)
        {
            HeaderPropagation.CheckConfigured(Options.PropagateHeaders[i], $"Gateway:PropagateHeaders:{i}", _errors);
        }

        var definitions = new List<AggregateDefinition>();
        foreach (var (name, aggregate) in Options.Aggregates)
        {
            var key = $"Gateway:Aggregates:{name}";
            if (AggregateCompiler.Compile(name, aggregate, key, Downstreams, Datasets, _errors) is { } definition
                && _claims.Claim(definition.Route, [definition.Method], key, _errors))
            {
                definitions.Add(definition);
            }
        }

        Configured = definitions;
    }

    public GatewayOptions Options { get; }

    public DownstreamRegistry Downstreams { get; }

    /// <summary>Trusted proxies, the per-client and concurrency limits, CORS (<c>Gateway:TrustedProxies</c>, <c>Gateway:RateLimiting</c>, <c>Gateway:Cors</c>).</summary>
    public InboundLimits Limits { get; }

    /// <summary>The datasets declared under <c>Gateway:CachedData</c>.</summary>
    public DatasetRegistry Datasets { get; }

    /// <summary>Pass-through routes YARP declares.</summary>
    public int RouteCount { get; }

    /// <summary>Aggregates mapped so far, configured and code-first.</summary>
    public int MappedCount => Volatile.Read(ref _mapped);

    /// <summary>The aggregates declared in configuration.</summary>
    public IReadOnlyList<AggregateDefinition> Configured { get; }

    /// <summary>Throws when the configuration had any problem, naming every offending key.</summary>
    public void ThrowIfInvalid()
    {
        if (Interlocked.Exchange(ref _deferredCheck, null) is { } deferred)
        {
            lock (_errors)
            {
                deferred(_errors);
            }
        }

        if (_errors.Count > 0)
        {
            throw new GatewayConfigurationException(_errors);
        }
    }

    public AggregateDefinition Compile(string name, AggregateOptions options)
    {
        var errors = new List<string>();
        var key = $"MapAggregate(\"{name}\")";
        var definition = AggregateCompiler.Compile(name, options, key, Downstreams, Datasets, errors);
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
        var datasets = definition.Sources.Select(s => s.CachedData is { } name && Datasets.TryGet(name, out var d) ? d : null).ToArray();
        foreach (var dataset in datasets)
        {
            dataset?.MarkUsed();
        }

        Interlocked.Increment(ref _mapped);
        return new AggregatePlan(definition, [.. downstreams], Options.Deadline.Header, datasets);
    }

    private void CheckManagement()
    {
        if (Options.Management.Enabled && string.IsNullOrWhiteSpace(Options.Management.ApiKey))
        {
            _errors.Add("Gateway:Management:ApiKey: is required when Gateway:Management:Enabled is true (every management request must carry it in X-Api-Key)");
        }
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
