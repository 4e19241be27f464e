using Gateway.Configuration;

namespace Gateway.Downstream;

/// <summary>The downstream services aggregates can call, keyed by YARP cluster id.</summary>
internal sealed class DownstreamRegistry
{
    /// <summary>Timeout of a call when neither its source nor its downstream sets one.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);

    private readonly Dictionary<string, DownstreamService> _downstreams;

    private DownstreamRegistry(Dictionary<string, DownstreamService> downstreams) => _downstreams = downstreams;

    public bool TryGet(string clusterId, out DownstreamService downstream) => _downstreams.TryGetValue(clusterId, out downstream!);

    /// <summary>Builds the registry; every problem is added to <paramref name="errors"/> with its key.</summary>
    public static DownstreamRegistry Create(
        IReadOnlyDictionary<string, ClusterOptions> clusters,
        IReadOnlyDictionary<string, DownstreamOptions> limits,
        List<string> errors)
    {
        var downstreams = new Dictionary<string, DownstreamService>(StringComparer.OrdinalIgnoreCase);
        foreach (var (id, limit) in limits)
        {
            if (!clusters.ContainsKey(id))
            {
                errors.Add($"Gateway:Downstreams:{id}: no cluster '{id}' is declared under ReverseProxy:Clusters");
            }
        }

        foreach (var (id, cluster) in clusters)
        {
            var key = $"ReverseProxy:Clusters:{id}";
            var addresses = new List<string>();
            foreach (var (destinationId, destination) in cluster.Destinations)
            {
                if (!Uri.TryCreate(destination.Address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                    || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
                {
                    errors.Add($"{key}:Destinations:{destinationId}:Address: '{AddressRedaction.Redact(destination.Address)}' is not an absolute http(s) address without query");
                    continue;
                }

                addresses.Add(uri.GetLeftPart(UriPartial.Path));
            }

            if (cluster.Destinations.Count == 0)
            {
                errors.Add($"{key}:Destinations: the cluster has no destination");
            }

            var limit = limits.FirstOrDefault(l => string.Equals(l.Key, id, StringComparison.OrdinalIgnoreCase)).Value ?? new DownstreamOptions();
            var limitKey = $"Gateway:Downstreams:{id}";
            var valid = true;
            if (limit.MaxConcurrency < 1)
            {
                errors.Add($"{limitKey}:MaxConcurrency: must be at least 1 (was {limit.MaxConcurrency})");
                valid = false;
            }

            if (limit.MaxQueue < 0)
            {
                errors.Add($"{limitKey}:MaxQueue: must not be negative (was {limit.MaxQueue})");
                valid = false;
            }

            if (limit.Timeout is { } timeout && timeout <= TimeSpan.Zero)
            {
                errors.Add($"{limitKey}:Timeout: must be positive (was {timeout})");
                valid = false;
            }

            if (limit.MaxResponseBytes < 1 || limit.MaxResponseBytes > Array.MaxLength)
            {
                errors.Add($"{limitKey}:MaxResponseBytes: must be between 1 and {Array.MaxLength} (was {limit.MaxResponseBytes})");
                valid = false;
            }

            if (valid && addresses.Count > 0)
            {
                downstreams[id] = new DownstreamService(id, addresses, new ConcurrencyGate(limit.MaxConcurrency, limit.MaxQueue), limit.Timeout, limit.MaxResponseBytes);
            }
        }

        return new DownstreamRegistry(downstreams);
    }
}
