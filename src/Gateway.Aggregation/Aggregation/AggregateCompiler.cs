using System.Text.Json;
using Gateway.Caching;
using Gateway.Configuration;
using Gateway.Downstream;
using Gateway.Model;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Gateway.Aggregation;

/// <summary>
/// Turns <see cref="AggregateOptions"/> (from configuration or from code) into a validated
/// <see cref="AggregateDefinition"/>. Every problem is reported with the key it concerns.
/// </summary>
internal static class AggregateCompiler
{
    public static AggregateDefinition? Compile(string name, AggregateOptions options, string key, DownstreamRegistry downstreams, DatasetRegistry datasets, List<string> errors)
    {
        var errorCount = errors.Count;
        void Error(string subKey, string message) => errors.Add($"{key}{subKey}: {message}");

        if (string.IsNullOrWhiteSpace(options.Route))
        {
            Error(":Route", "is required");
        }
        else
        {
            try
            {
                RoutePatternFactory.Parse(options.Route);
            }
            catch (RoutePatternException ex)
            {
                Error(":Route", $"'{options.Route}' is not a valid route template: {ex.Message}");
            }
        }

        var method = options.Method?.Trim().ToUpperInvariant() ?? "";
        if (method.Length == 0 || !method.All(char.IsAsciiLetterUpper))
        {
            Error(":Method", $"'{options.Method}' is not an HTTP method");
        }

        var timeout = options.Timeout ?? AggregateDefinition.DefaultTimeout;
        if (timeout <= TimeSpan.Zero)
        {
            Error(":Timeout", $"must be positive (was {timeout})");
        }

        if (options.MaxParallel < 1)
        {
            Error(":MaxParallel", $"must be at least 1 (was {options.MaxParallel})");
        }

        var rateLimit = Limits.FixedWindowLimit.From(options.RateLimit, key + ":RateLimit", errors);

        if (options.Sources.Count == 0)
        {
            Error(":Sources", "an aggregate needs at least one source");
        }

        var names = options.Sources.Keys.ToArray();
        var indexOf = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < names.Length; i++)
        {
            indexOf[names[i]] = i;
            if (names[i].AsSpan().IndexOfAny(".{}?") >= 0)
            {
                Error($":Sources:{names[i]}", "a source name must not contain '.', '{', '}' or '?'");
            }
        }

        var clientValues = new List<string>();
        var clientRequired = new List<bool>();
        var clientInPath = new List<bool>();
        var inputs = names.Select(_ => new SortedSet<int>()).ToArray();
        var partial = new (string Cluster, PathTemplate Path, bool Required, TimeSpan Timeout)?[names.Length];
        var cachedData = new string?[names.Length];
        var caches = new ResponseCachePolicy?[names.Length];
        string? invalidCluster = null;

        for (var i = 0; i < names.Length; i++)
        {
            var sourceKey = $":Sources:{names[i]}";
            var source = options.Sources[names[i]];
            if (source.CachedData is not null)
            {
                if (source.Cache is not null || source.CacheAuthorized)
                {
                    Error($"{sourceKey}:{(source.Cache is not null ? "Cache" : "CacheAuthorized")}", "a CachedData source is served from memory already; Cache is for calls");
                }

                if (CompileCachedData(source, sourceKey, datasets, Error) is { } dataset)
                {
                    cachedData[i] = dataset.Name;
                    partial[i] = (dataset.Definition.Downstream.Id, dataset.Definition.Path, source.Required, TimeSpan.Zero);
                }

                continue;
            }

            DownstreamService? downstream = null;
            if (string.IsNullOrWhiteSpace(source.Cluster))
            {
                Error($"{sourceKey}:Cluster", "is required");
            }
            else if (!downstreams.TryGet(source.Cluster, out downstream))
            {
                if (downstreams.IsInvalid(source.Cluster))
                {
                    // Its own keys say what is wrong with it.
                    invalidCluster ??= source.Cluster;
                }
                else
                {
                    Error($"{sourceKey}:Cluster", $"unknown cluster '{source.Cluster}' (YARP declares none such: add it under ReverseProxy:Clusters, or to the clusters your app loads into YARP)");
                }
            }

            if (source.Timeout is { } own && (own <= TimeSpan.Zero || own > timeout))
            {
                Error($"{sourceKey}:Timeout", $"must be positive and not above the aggregate's timeout {timeout} (was {own})");
            }

            PathTemplate? path = null;
            if (string.IsNullOrWhiteSpace(source.Path))
            {
                Error($"{sourceKey}:Path", "is required");
            }
            else
            {
                var index = i;
                path = PathTemplate.Parse(source.Path, (placeholder, optional, inPath) =>
                {
                    var dot = placeholder.IndexOf('.');
                    if (dot < 0)
                    {
                        var client = clientValues.IndexOf(placeholder);
                        if (client < 0)
                        {
                            client = clientValues.Count;
                            clientValues.Add(placeholder);
                            clientRequired.Add(false);
                            clientInPath.Add(false);
                        }

                        clientRequired[client] |= !optional;
                        clientInPath[client] |= inPath;
                        return (new Placeholder(placeholder, optional, client, -1, []), null);
                    }

                    var sourceName = placeholder[..dot];
                    var field = placeholder[(dot + 1)..].Split('.');
                    if (!indexOf.TryGetValue(sourceName, out var input))
                    {
                        return (null, $"'{{{placeholder}}}' refers to unknown source '{sourceName}'");
                    }

                    if (field.Any(f => f.Length == 0))
                    {
                        return (null, $"'{{{placeholder}}}' has an empty field name");
                    }

                    inputs[index].Add(input);
                    return (new Placeholder(placeholder, optional, -1, input, field), null);
                }, out var problem);

                if (path is null)
                {
                    Error($"{sourceKey}:Path", problem!);
                }
            }

            if (source.Cache is not null || source.CacheAuthorized)
            {
                caches[i] = CompileCache(source, sourceKey, downstream, Error);
            }

            if (path is not null && downstream is not null)
            {
                var effective = source.Timeout ?? downstream.Timeout ?? DownstreamRegistry.DefaultTimeout;
                partial[i] = (downstream.Id, path, source.Required, effective > timeout ? timeout : effective);
            }
        }

        ReportCycles(names, inputs, key, errors);

        if (errors.Count > errorCount || invalidCluster is not null)
        {
            return null;
        }

        var dependents = names.Select((_, i) => Enumerable.Range(0, names.Length).Where(d => inputs[d].Contains(i)).ToArray()).ToArray();
        var sources = names.Select((sourceName, i) => new SourceDefinition
        {
            Name = sourceName,
            Index = i,
            Kind = cachedData[i] is not null ? SourceKind.CachedData : caches[i] is not null ? SourceKind.CachedCall : SourceKind.Call,
            CachedData = cachedData[i],
            Cache = caches[i],
            Cluster = partial[i]!.Value.Cluster,
            Path = partial[i]!.Value.Path,
            Required = partial[i]!.Value.Required,
            Timeout = partial[i]!.Value.Timeout,
            Inputs = [.. inputs[i]],
            Dependents = dependents[i],
            EncodedName = JsonEncodedText.Encode(sourceName),
        }).ToArray();

        return new AggregateDefinition
        {
            Name = name,
            Route = options.Route!,
            Method = method,
            Summary = string.IsNullOrWhiteSpace(options.Summary) ? null : options.Summary.Trim(),
            Description = string.IsNullOrWhiteSpace(options.Description) ? null : options.Description.Trim(),
            Timeout = timeout,
            MaxParallel = options.MaxParallel,
            FailFast = options.FailFast,
            RateLimit = rateLimit,
            Sources = sources,
            ClientValues = clientValues,
            ClientValueRequired = clientRequired,
            ClientValueInPath = clientInPath,
        };
    }

    // The key holds the headers named in VaryBy: one the cluster never receives could not change its answer,
    // so naming it is a mistake (a misspelling, or a header meant to be propagated).
    private static ResponseCachePolicy? CompileCache(SourceOptions source, string sourceKey, DownstreamService? downstream, Action<string, string> error)
    {
        if (source.Cache is not { } cache)
        {
            error($"{sourceKey}:CacheAuthorized", "has no effect without Cache");
            return null;
        }

        var valid = true;
        if (cache.Ttl is not { } ttl || ttl <= TimeSpan.Zero)
        {
            error($"{sourceKey}:Cache:Ttl", cache.Ttl is null ? "is required" : $"must be positive (was {cache.Ttl})");
            valid = false;
            ttl = TimeSpan.Zero;
        }

        for (var i = 0; i < cache.VaryBy.Count; i++)
        {
            var header = cache.VaryBy[i];
            if (string.IsNullOrWhiteSpace(header))
            {
                error($"{sourceKey}:Cache:VaryBy:{i}", "names no header");
                valid = false;
            }
            else if (downstream is not null && !downstream.Propagates(header))
            {
                error($"{sourceKey}:Cache:VaryBy:{i}", $"'{header}' is not propagated to cluster '{downstream.Id}' (list it in Gateway:PropagateHeaders or Gateway:Downstreams:{downstream.Id}:PropagateHeaders)");
                valid = false;
            }
        }

        return valid && downstream is not null
            ? new ResponseCachePolicy(ttl, cache.StaleWhileRevalidate ?? TimeSpan.Zero, cache.StaleIfError ?? TimeSpan.Zero, cache.VaryBy, source.CacheAuthorized, cache.IgnoreCacheControl)
            : null;
    }

    // A cached-data source is the dataset's: where it comes from and how long that may take are set there.
    private static CachedDataset? CompileCachedData(SourceOptions source, string sourceKey, DatasetRegistry datasets, Action<string, string> error)
    {
        var valid = true;
        foreach (var (setting, value) in new[] { ("Cluster", source.Cluster), ("Path", source.Path), ("Timeout", source.Timeout?.ToString()) })
        {
            if (value is not null)
            {
                error($"{sourceKey}:{setting}", "a CachedData source takes no Cluster, Path or Timeout: it is served from memory, the dataset says where it comes from");
                valid = false;
            }
        }

        if (string.IsNullOrWhiteSpace(source.CachedData))
        {
            error($"{sourceKey}:CachedData", "names no dataset");
            return null;
        }

        if (!datasets.TryGet(source.CachedData, out var dataset))
        {
            error($"{sourceKey}:CachedData", $"unknown dataset '{source.CachedData}' (declare it under Gateway:CachedData)");
            return null;
        }

        return valid ? dataset : null;
    }

    private static void ReportCycles(string[] names, SortedSet<int>[] inputs, string key, List<string> errors)
    {
        // Kahn's algorithm: whatever cannot be ordered sits on a cycle or behind one.
        var pending = inputs.Select(i => i.Count).ToArray();
        var ready = new Queue<int>(Enumerable.Range(0, names.Length).Where(i => pending[i] == 0));
        var ordered = 0;
        while (ready.TryDequeue(out var done))
        {
            ordered++;
            for (var d = 0; d < names.Length; d++)
            {
                if (inputs[d].Contains(done) && --pending[d] == 0)
                {
                    ready.Enqueue(d);
                }
            }
        }

        if (ordered < names.Length)
        {
            var stuck = string.Join(", ", Enumerable.Range(0, names.Length).Where(i => pending[i] > 0).Select(i => names[i]));
            errors.Add($"{key}:Sources: dependency cycle among sources {stuck}");
        }
    }
}
