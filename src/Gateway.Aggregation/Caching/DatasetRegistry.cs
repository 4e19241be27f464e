using Gateway.Configuration;
using Gateway.Downstream;
using Gateway.Model;

namespace Gateway.Caching;

/// <summary>The cached datasets, keyed by name (case-insensitive), built once from <c>Gateway:CachedData</c>.</summary>
internal sealed class DatasetRegistry
{
    private readonly Dictionary<string, CachedDataset> _datasets;

    private DatasetRegistry(Dictionary<string, CachedDataset> datasets, IReadOnlyList<CachedDataset> all)
    {
        _datasets = datasets;
        All = all;
    }

    /// <summary>Every dataset, by <see cref="CachedDataset.Index"/>.</summary>
    public IReadOnlyList<CachedDataset> All { get; }

    public bool TryGet(string name, out CachedDataset dataset) => _datasets.TryGetValue(name, out dataset!);

    /// <summary>Builds the registry; every problem is added to <paramref name="errors"/> with its key.</summary>
    public static DatasetRegistry Create(IReadOnlyDictionary<string, CachedDataOptions> options, DownstreamRegistry downstreams, TimeProvider timeProvider, List<string> errors)
    {
        var datasets = new Dictionary<string, CachedDataset>(StringComparer.OrdinalIgnoreCase);
        var all = new List<CachedDataset>();
        foreach (var (name, data) in options)
        {
            if (Compile(name, data, $"Gateway:CachedData:{name}", downstreams, errors) is { } definition)
            {
                var dataset = new CachedDataset(definition, all.Count, timeProvider);
                datasets[name] = dataset;
                all.Add(dataset);
            }
        }

        return new DatasetRegistry(datasets, all);
    }

    private static CachedDataDefinition? Compile(string name, CachedDataOptions options, string key, DownstreamRegistry downstreams, List<string> errors)
    {
        var errorCount = errors.Count;
        void Error(string subKey, string message) => errors.Add($"{key}{subKey}: {message}");

        if (name.AsSpan().IndexOfAny("/\\{}?#") >= 0)
        {
            Error("", "a dataset name must not contain '/', '\\', '{', '}', '?' or '#'");
        }

        DownstreamService? downstream = null;
        if (string.IsNullOrWhiteSpace(options.Cluster))
        {
            Error(":Cluster", "is required");
        }
        else if (!downstreams.TryGet(options.Cluster, out downstream) && !downstreams.IsInvalid(options.Cluster))
        {
            Error(":Cluster", $"unknown cluster '{options.Cluster}' (YARP declares none such: add it under ReverseProxy:Clusters, or to the clusters your app loads into YARP)");
        }

        PathTemplate? path = null;
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            Error(":Path", "is required");
        }
        else
        {
            path = PathTemplate.Parse(options.Path, (placeholder, _, _) => (null, $"'{{{placeholder}}}': a dataset's path may use no placeholders (it is refreshed for no request)"), out var problem);
            if (path is null)
            {
                Error(":Path", problem!);
            }
        }

        if (options.RefreshInterval is not { } interval)
        {
            Error(":RefreshInterval", "is required");
            interval = TimeSpan.Zero;
        }
        else if (interval <= TimeSpan.Zero)
        {
            Error(":RefreshInterval", $"must be positive (was {interval})");
        }

        if (double.IsNaN(options.Jitter) || options.Jitter < 0 || options.Jitter > CachedDataOptions.MaxJitter)
        {
            Error(":Jitter", $"must be between 0 and {CachedDataOptions.MaxJitter} (was {options.Jitter})");
        }

        if (options.Timeout is { } own && own <= TimeSpan.Zero)
        {
            Error(":Timeout", $"must be positive (was {own})");
        }

        if (options.MaxStaleness is { } staleness && staleness < TimeSpan.Zero)
        {
            Error(":MaxStaleness", $"must not be negative (was {staleness})");
        }

        if (errors.Count > errorCount || downstream is null || path is null)
        {
            return null;
        }

        return new CachedDataDefinition
        {
            Name = name,
            Downstream = downstream,
            Path = path,
            Address = DownstreamAddress.Fixed(path.Constant!),
            RefreshInterval = interval,
            Jitter = options.Jitter,
            Timeout = options.Timeout ?? downstream.Timeout ?? DownstreamRegistry.DefaultTimeout,
            MaxStaleness = options.MaxStaleness ?? interval * CachedDataOptions.DefaultMaxStalenessIntervals,
            Required = options.Required,
        };
    }
}
