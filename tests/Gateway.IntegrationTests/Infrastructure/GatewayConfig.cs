using System.Globalization;
using System.Text.Json.Nodes;

namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>Builds a gateway configuration file (the public configuration contract) as JSON.</summary>
public sealed class GatewayConfig
{
    public GatewayConfig()
    {
        Root = new JsonObject
        {
            ["Logging"] = new JsonObject { ["LogLevel"] = new JsonObject { ["Default"] = "Warning" } },
            ["ReverseProxy"] = new JsonObject { ["Clusters"] = new JsonObject() },
            ["Gateway"] = new JsonObject
            {
                ["Downstreams"] = new JsonObject(),
                ["PropagateHeaders"] = new JsonArray(),
                ["Aggregates"] = new JsonObject(),
            },
        };
    }

    /// <summary>The whole document; tests may break it on purpose.</summary>
    public JsonObject Root { get; }

    public JsonObject Gateway => Root["Gateway"]!.AsObject();

    /// <summary>Declares YARP cluster <paramref name="id"/> with one destination.</summary>
    public GatewayConfig Cluster(string id, Uri address)
    {
        Root["ReverseProxy"]!["Clusters"]![id] = new JsonObject
        {
            ["Destinations"] = new JsonObject { ["a"] = new JsonObject { ["Address"] = address.ToString() } },
        };
        return this;
    }

    /// <summary>Declares YARP cluster <paramref name="id"/> with the given destinations (id and address each).</summary>
    public GatewayConfig Cluster(string id, params (string Id, Uri Address)[] destinations)
    {
        var list = new JsonObject();
        foreach (var (destinationId, address) in destinations)
        {
            list[destinationId] = new JsonObject { ["Address"] = address.ToString() };
        }

        Root["ReverseProxy"]!["Clusters"]![id] = new JsonObject { ["Destinations"] = list };
        return this;
    }

    /// <summary>Sets YARP's <c>LoadBalancingPolicy</c> of cluster <paramref name="id"/> (e.g. <c>LeastRequests</c>, <c>FirstAlphabetical</c>).</summary>
    public GatewayConfig LoadBalancing(string id, string policy)
    {
        ClusterObject(id)["LoadBalancingPolicy"] = policy;
        return this;
    }

    /// <summary>YARP's active health check of cluster <paramref name="id"/> (policy <c>ConsecutiveFailures</c>).</summary>
    public GatewayConfig ActiveHealthCheck(string id, TimeSpan interval, TimeSpan timeout, string path)
    {
        HealthCheckObject(id)["Active"] = new JsonObject
        {
            ["Enabled"] = true,
            ["Interval"] = Format(interval),
            ["Timeout"] = Format(timeout),
            ["Policy"] = "ConsecutiveFailures",
            ["Path"] = path,
        };
        return this;
    }

    /// <summary>YARP's passive health check of cluster <paramref name="id"/> (policy <c>TransportFailureRate</c>).</summary>
    public GatewayConfig PassiveHealthCheck(string id, TimeSpan reactivationPeriod, double? failureRateLimit = null)
    {
        HealthCheckObject(id)["Passive"] = new JsonObject
        {
            ["Enabled"] = true,
            ["Policy"] = "TransportFailureRate",
            ["ReactivationPeriod"] = Format(reactivationPeriod),
        };
        if (failureRateLimit is { } limit)
        {
            ClusterObject(id)["Metadata"] = new JsonObject { ["TransportFailureRateHealthPolicy.RateLimit"] = limit.ToString(CultureInfo.InvariantCulture) };
        }

        return this;
    }

    /// <summary>YARP's <c>HttpRequest:ActivityTimeout</c> of cluster <paramref name="id"/>: how long a destination may stay silent.</summary>
    public GatewayConfig ActivityTimeout(string id, TimeSpan timeout)
    {
        ClusterObject(id)["HttpRequest"] = new JsonObject { ["ActivityTimeout"] = Format(timeout) };
        return this;
    }

    /// <summary>A pass-through route: <c>{prefix}/{**rest}</c> goes to cluster <paramref name="cluster"/> as <c>/{rest}</c>.</summary>
    public GatewayConfig PrefixRoute(string id, string cluster, string prefix) =>
        Route(id, cluster, prefix + "/{**rest}", configure: route => route["Transforms"] = new JsonArray(new JsonObject { ["PathRemovePrefix"] = prefix }));

    /// <summary>The resilience strategies of cluster <paramref name="id"/> (<c>Gateway:Downstreams:{id}:Resilience</c>).</summary>
    public GatewayConfig Resilience(string id, Action<ResilienceConfig> configure)
    {
        var resilience = new JsonObject();
        configure(new ResilienceConfig(resilience));
        DownstreamObject(id)["Resilience"] = resilience;
        return this;
    }

    /// <summary><c>Gateway:Deadline</c>.</summary>
    public GatewayConfig Deadline(string? header = null, TimeSpan? minBudget = null)
    {
        var deadline = new JsonObject();
        if (header is not null)
        {
            deadline["Header"] = header;
        }

        if (minBudget is { } m)
        {
            deadline["MinBudget"] = Format(m);
        }

        Gateway["Deadline"] = deadline;
        return this;
    }

    /// <summary>Limits of the calls to cluster <paramref name="id"/> (added to what is already set for it).</summary>
    public GatewayConfig Downstream(string id, int? maxConcurrency = null, int? maxQueue = null, TimeSpan? timeout = null, long? maxResponseBytes = null)
    {
        var limits = DownstreamObject(id);
        if (maxConcurrency is { } c)
        {
            limits["MaxConcurrency"] = c;
        }

        if (maxQueue is { } q)
        {
            limits["MaxQueue"] = q;
        }

        if (timeout is { } t)
        {
            limits["Timeout"] = Format(t);
        }

        if (maxResponseBytes is { } m)
        {
            limits["MaxResponseBytes"] = m;
        }

        return this;
    }

    /// <summary>
    /// Declares pass-through route <paramref name="id"/> under <c>ReverseProxy:Routes</c>: requests matching
    /// <paramref name="path"/> (and <paramref name="methods"/>, any method when null) go to cluster
    /// <paramref name="clusterId"/>. <paramref name="configure"/> may set further YARP route keys
    /// (<c>Transforms</c>, <c>Timeout</c>, <c>MaxRequestBodySize</c>).
    /// </summary>
    public GatewayConfig Route(string id, string clusterId, string path, string[]? methods = null, Action<JsonObject>? configure = null)
    {
        var match = new JsonObject { ["Path"] = path };
        if (methods is not null)
        {
            match["Methods"] = new JsonArray([.. methods.Select(m => JsonValue.Create(m))]);
        }

        var route = new JsonObject { ["ClusterId"] = clusterId, ["Match"] = match };
        configure?.Invoke(route);
        if (Root["ReverseProxy"]!["Routes"] is not JsonObject routes)
        {
            Root["ReverseProxy"]!["Routes"] = routes = new JsonObject();
        }

        routes[id] = route;
        return this;
    }

    /// <summary>Gives cluster <paramref name="id"/> a circuit breaker (<c>Gateway:Downstreams:{id}:Resilience:CircuitBreaker</c>).</summary>
    public GatewayConfig CircuitBreaker(string id, double failureRatio, int minimumThroughput, TimeSpan samplingDuration, TimeSpan breakDuration)
    {
        if (Gateway["Downstreams"]![id] is not JsonObject limits)
        {
            Gateway["Downstreams"]![id] = limits = new JsonObject();
        }

        limits["Resilience"] = new JsonObject
        {
            ["CircuitBreaker"] = new JsonObject
            {
                ["FailureRatio"] = failureRatio,
                ["MinimumThroughput"] = minimumThroughput,
                ["SamplingDuration"] = Format(samplingDuration),
                ["BreakDuration"] = Format(breakDuration),
            },
        };
        return this;
    }

    public GatewayConfig PropagateBaggage(params string[] keys)
    {
        Gateway["PropagateBaggage"] = new JsonArray([.. keys.Select(k => JsonValue.Create(k))]);
        return this;
    }

    public GatewayConfig PropagateHeaders(params string[] headers)
    {
        Gateway["PropagateHeaders"] = new JsonArray([.. headers.Select(h => JsonValue.Create(h))]);
        return this;
    }

    /// <summary>Adds aggregate <paramref name="name"/>; <paramref name="sources"/> adds its sources.</summary>
    public GatewayConfig Aggregate(string name, string route, Action<AggregateConfig> sources, TimeSpan? timeout = null, int? maxParallel = null, bool? failFast = null, string? method = null)
    {
        var aggregate = new JsonObject { ["Route"] = route };
        if (failFast is { } f)
        {
            aggregate["FailFast"] = f;
        }

        if (method is not null)
        {
            aggregate["Method"] = method;
        }

        if (timeout is { } t)
        {
            aggregate["Timeout"] = Format(t);
        }

        if (maxParallel is { } p)
        {
            aggregate["MaxParallel"] = p;
        }

        var sourceObject = new JsonObject();
        aggregate["Sources"] = sourceObject;
        sources(new AggregateConfig(sourceObject));
        Gateway["Aggregates"]![name] = aggregate;
        return this;
    }

    /// <summary><c>Gateway:Cache:Redis</c>: instances share their datasets through this Redis.</summary>
    public GatewayConfig Redis(string connectionString)
    {
        Gateway["Cache"] = new JsonObject { ["Redis"] = connectionString };
        return this;
    }

    /// <summary>Declares dataset <paramref name="name"/> under <c>Gateway:CachedData</c>.</summary>
    public GatewayConfig CachedData(string name, string cluster, string path, TimeSpan refreshInterval, TimeSpan? maxStaleness = null, TimeSpan? timeout = null, double? jitter = null, bool? required = null)
    {
        var dataset = new JsonObject { ["Cluster"] = cluster, ["Path"] = path, ["RefreshInterval"] = Format(refreshInterval) };
        if (maxStaleness is { } m)
        {
            dataset["MaxStaleness"] = Format(m);
        }

        if (timeout is { } t)
        {
            dataset["Timeout"] = Format(t);
        }

        if (jitter is { } j)
        {
            dataset["Jitter"] = j;
        }

        if (required is { } r)
        {
            dataset["Required"] = r;
        }

        if (Gateway["CachedData"] is not JsonObject datasets)
        {
            Gateway["CachedData"] = datasets = [];
        }

        datasets[name] = dataset;
        return this;
    }

    /// <summary><c>Gateway:Management</c>.</summary>
    public GatewayConfig Management(bool enabled, string? apiKey)
    {
        var management = new JsonObject { ["Enabled"] = enabled };
        if (apiKey is not null)
        {
            management["ApiKey"] = apiKey;
        }

        Gateway["Management"] = management;
        return this;
    }

    /// <summary><c>Gateway:Cache:MaxBytes</c>.</summary>
    public GatewayConfig CacheMaxBytes(long maxBytes)
    {
        Gateway["Cache"] = new JsonObject { ["MaxBytes"] = maxBytes };
        return this;
    }

    public string ToJson() => Root.ToJsonString();

    /// <summary>A TimeSpan the way the configuration writes it, e.g. <c>00:00:00.300</c>.</summary>
    public static string Format(TimeSpan value) => value.ToString(@"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture);

    private JsonObject ClusterObject(string id) =>
        Root["ReverseProxy"]!["Clusters"]![id]?.AsObject() ?? throw new InvalidOperationException($"declare cluster '{id}' first");

    private JsonObject HealthCheckObject(string id)
    {
        var cluster = ClusterObject(id);
        if (cluster["HealthCheck"] is not JsonObject health)
        {
            health = [];
            cluster["HealthCheck"] = health;
        }

        return health;
    }

    private JsonObject DownstreamObject(string id)
    {
        var downstreams = Gateway["Downstreams"]!.AsObject();
        if (downstreams[id] is not JsonObject limits)
        {
            limits = [];
            downstreams[id] = limits;
        }

        return limits;
    }
}

/// <summary>The <c>Resilience</c> section of one downstream in a <see cref="GatewayConfig"/>.</summary>
public sealed class ResilienceConfig(JsonObject resilience)
{
    public ResilienceConfig AttemptTimeout(TimeSpan timeout)
    {
        resilience["AttemptTimeout"] = GatewayConfig.Format(timeout);
        return this;
    }

    /// <summary>Retries with a constant delay and no jitter unless told otherwise, so that tests can count on them.</summary>
    public ResilienceConfig Retry(int maxRetryAttempts, TimeSpan delay, double? budgetPercent = null, int? minRetryConcurrency = null, string backoffType = "Constant", bool useJitter = false)
    {
        var retry = new JsonObject
        {
            ["MaxRetryAttempts"] = maxRetryAttempts,
            ["Delay"] = GatewayConfig.Format(delay),
            ["BackoffType"] = backoffType,
            ["UseJitter"] = useJitter,
        };
        if (budgetPercent is { } b)
        {
            retry["BudgetPercent"] = b;
        }

        if (minRetryConcurrency is { } m)
        {
            retry["MinRetryConcurrency"] = m;
        }

        resilience["Retry"] = retry;
        return this;
    }

    public ResilienceConfig CircuitBreaker(double failureRatio, int minimumThroughput, TimeSpan breakDuration, TimeSpan? samplingDuration = null)
    {
        var breaker = new JsonObject
        {
            ["FailureRatio"] = failureRatio,
            ["MinimumThroughput"] = minimumThroughput,
            ["BreakDuration"] = GatewayConfig.Format(breakDuration),
        };
        if (samplingDuration is { } s)
        {
            breaker["SamplingDuration"] = GatewayConfig.Format(s);
        }

        resilience["CircuitBreaker"] = breaker;
        return this;
    }

    public ResilienceConfig Hedging(TimeSpan delay, int? maxHedgedAttempts = null)
    {
        var hedging = new JsonObject { ["Delay"] = GatewayConfig.Format(delay) };
        if (maxHedgedAttempts is { } m)
        {
            hedging["MaxHedgedAttempts"] = m;
        }

        resilience["Hedging"] = hedging;
        return this;
    }
}

/// <summary>The sources of one aggregate in a <see cref="GatewayConfig"/>.</summary>
public sealed class AggregateConfig(JsonObject sources)
{
    /// <summary>A call with the response cache in front (<c>Cache</c>, <c>CacheAuthorized</c>).</summary>
    public AggregateConfig CachedCall(string name, string cluster, string path, TimeSpan ttl, TimeSpan? staleWhileRevalidate = null, TimeSpan? staleIfError = null, string[]? varyBy = null, bool? cacheAuthorized = null, TimeSpan? timeout = null, bool? required = null)
    {
        Source(name, cluster, path, required, timeout);
        var cache = new JsonObject { ["Ttl"] = GatewayConfig.Format(ttl) };
        if (staleWhileRevalidate is { } swr)
        {
            cache["StaleWhileRevalidate"] = GatewayConfig.Format(swr);
        }

        if (staleIfError is { } sie)
        {
            cache["StaleIfError"] = GatewayConfig.Format(sie);
        }

        if (varyBy is not null)
        {
            cache["VaryBy"] = new JsonArray([.. varyBy.Select(h => JsonValue.Create(h))]);
        }

        var source = sources[name]!.AsObject();
        source["Cache"] = cache;
        if (cacheAuthorized is { } a)
        {
            source["CacheAuthorized"] = a;
        }

        return this;
    }

    public AggregateConfig Source(string name, string cluster, string path, bool? required = null, TimeSpan? timeout = null)
    {
        var source = new JsonObject { ["Cluster"] = cluster, ["Path"] = path };
        if (required is { } r)
        {
            source["Required"] = r;
        }

        if (timeout is { } t)
        {
            source["Timeout"] = GatewayConfig.Format(t);
        }

        sources[name] = source;
        return this;
    }

    /// <summary>A source served from dataset <paramref name="dataset"/> (<c>"CachedData"</c>).</summary>
    public AggregateConfig CachedSource(string name, string dataset, bool? required = null)
    {
        var source = new JsonObject { ["CachedData"] = dataset };
        if (required is { } r)
        {
            source["Required"] = r;
        }

        sources[name] = source;
        return this;
    }
}
