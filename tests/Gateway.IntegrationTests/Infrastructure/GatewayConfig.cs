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

    /// <summary>Limits of the calls to cluster <paramref name="id"/>.</summary>
    public GatewayConfig Downstream(string id, int? maxConcurrency = null, int? maxQueue = null, TimeSpan? timeout = null, long? maxResponseBytes = null)
    {
        var limits = new JsonObject();
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

        Gateway["Downstreams"]![id] = limits;
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
    public GatewayConfig Aggregate(string name, string route, Action<AggregateConfig> sources, TimeSpan? timeout = null, int? maxParallel = null, string? method = null)
    {
        var aggregate = new JsonObject { ["Route"] = route };
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

    public string ToJson() => Root.ToJsonString();

    /// <summary>A TimeSpan the way the configuration writes it, e.g. <c>00:00:00.3000000</c>.</summary>
    public static string Format(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);
}

/// <summary>The sources of one aggregate in a <see cref="GatewayConfig"/>.</summary>
public sealed class AggregateConfig(JsonObject sources)
{
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
}
