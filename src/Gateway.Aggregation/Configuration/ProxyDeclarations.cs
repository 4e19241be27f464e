using Yarp.ReverseProxy.Configuration;

namespace Gateway.Configuration;

/// <summary>
/// The clusters and pass-through routes YARP knows at start-up, as the aggregates read them: from YARP's config
/// providers (<see cref="FromProviders"/>: the <c>ReverseProxy</c> section, <c>LoadFromMemory</c>, service
/// discovery, whatever the app registered), or straight from a configuration section (<see cref="FromSection"/>,
/// for tests and tools without a container).
/// </summary>
internal sealed class ProxyDeclarations
{
    private ProxyDeclarations(IReadOnlyDictionary<string, ClusterOptions> clusters, IReadOnlyList<ProxyRouteDeclaration> routes)
    {
        Clusters = clusters;
        Routes = routes;
    }

    /// <summary>Every declared cluster by id (case-insensitive, as YARP's), with its destinations.</summary>
    public IReadOnlyDictionary<string, ClusterOptions> Clusters { get; }

    public IReadOnlyList<ProxyRouteDeclaration> Routes { get; }

    /// <summary>What YARP's providers hold now; a provider that cannot say (YARP refused its configuration) adds its reason to <paramref name="errors"/>.</summary>
    public static ProxyDeclarations FromProviders(IEnumerable<IProxyConfigProvider> providers, List<string> errors)
    {
        var clusters = new Dictionary<string, ClusterOptions>(StringComparer.OrdinalIgnoreCase);
        var routes = new List<ProxyRouteDeclaration>();
        foreach (var provider in providers)
        {
            IProxyConfig config;
            try
            {
                config = provider.GetConfig();
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException)
            {
                // A duration the host's own check already named is what YARP refuses here too: said once.
                if (errors.Any(e => e.StartsWith("ReverseProxy:", StringComparison.Ordinal)))
                {
                    continue;
                }

                errors.Add($"ReverseProxy: {ex.Message}{(ex.InnerException is { } inner ? " " + inner.Message : "")}");
                continue;
            }

            foreach (var cluster in config.Clusters)
            {
                clusters[cluster.ClusterId] = new ClusterOptions
                {
                    Destinations = cluster.Destinations?.ToDictionary(d => d.Key, d => new DestinationOptions { Address = d.Value.Address }) ?? [],
                };
            }

            foreach (var route in config.Routes)
            {
                var match = route.Match;
                routes.Add(new(
                    $"ReverseProxy:Routes:{route.RouteId}:Match",
                    match.Path,
                    match.Methods is { Count: > 0 } methods ? [.. methods] : null,
                    match.Hosts is { Count: > 0 } || match.Headers is { Count: > 0 } || match.QueryParameters is { Count: > 0 }));
            }
        }

        return new(clusters, routes);
    }

    /// <summary>
    /// Each route and cluster through YARP's own validation (policy names, addresses, HTTP versions), every failure named
    /// by its key in <paramref name="errors"/>: YARP would otherwise refuse them when the routes are mapped, with a stack
    /// trace. A provider that could not be read was reported by <see cref="FromProviders"/>.
    /// </summary>
    public static void Validate(IEnumerable<IProxyConfigProvider> providers, IConfigValidator? validator, IReadOnlyCollection<string> balancingPolicies, List<string> errors)
    {
        if (validator is null)
        {
            return;
        }

        foreach (var provider in providers)
        {
            IProxyConfig config;
            try
            {
                config = provider.GetConfig();
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException)
            {
                continue;
            }

            foreach (var cluster in config.Clusters)
            {
                // A near miss of a policy name gets a suggestion; YARP's message names the value.
                var suggestion = cluster.LoadBalancingPolicy is { } policy && !balancingPolicies.Contains(policy, StringComparer.OrdinalIgnoreCase)
                    ? NearMiss.Suggestion(policy, balancingPolicies)
                    : "";
                Report(validator.ValidateClusterAsync(cluster), $"ReverseProxy:Clusters:{cluster.ClusterId}", suggestion, errors);
            }

            foreach (var route in config.Routes)
            {
                Report(validator.ValidateRouteAsync(route), $"ReverseProxy:Routes:{route.RouteId}", "", errors);
            }
        }
    }

    private static void Report(ValueTask<IList<Exception>> validation, string key, string suggestion, List<string> errors)
    {
        // At start, once: YARP's own first load of the same configuration waits for the same validation the same way.
#pragma warning disable VSTHRD002
        var failures = validation.IsCompletedSuccessfully ? validation.Result : validation.AsTask().GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
        foreach (var failure in failures)
        {
            errors.Add($"{key}: {failure.Message.TrimEnd('.')}{suggestion}");
        }
    }

    /// <summary>Read from a <c>ReverseProxy</c> section as YARP's configuration provider would; a value the binder cannot convert adds its reason to <paramref name="errors"/>.</summary>
    public static ProxyDeclarations FromSection(IConfigurationSection reverseProxy, List<string> errors)
    {
        Dictionary<string, ClusterOptions>? clusters = null;
        try
        {
            clusters = reverseProxy.GetSection("Clusters").Get<Dictionary<string, ClusterOptions>>();
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the key and the value it could not convert.
            errors.Add(ex.InnerException is null ? ex.Message : $"{ex.Message} {ex.InnerException.Message}");
        }

        var routes = reverseProxy.GetSection("Routes").GetChildren().Select(route => new ProxyRouteDeclaration(
            $"{route.Path}:Match",
            route["Match:Path"],
            route.GetSection("Match:Methods").GetChildren().Select(m => m.Value).OfType<string>().ToArray() is { Length: > 0 } methods ? methods : null,
            route.GetSection("Match:Hosts").GetChildren().Any() || route.GetSection("Match:Headers").GetChildren().Any()
                || route.GetSection("Match:QueryParameters").GetChildren().Any())).ToList();
        return new(new Dictionary<string, ClusterOptions>(clusters ?? [], StringComparer.OrdinalIgnoreCase), routes);
    }
}

/// <summary>One pass-through route's match: its key (for errors), path, methods (null: all), and whether hosts, headers or query values narrow it.</summary>
internal sealed record ProxyRouteDeclaration(string Key, string? Path, string[]? Methods, bool Narrowed);
