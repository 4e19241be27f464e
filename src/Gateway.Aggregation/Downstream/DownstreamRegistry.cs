using System.Threading.RateLimiting;
using Gateway.Configuration;

namespace Gateway.Downstream;

/// <summary>
/// The downstream services aggregates and routes call, one per YARP cluster, keyed by cluster id
/// (case-insensitive, as YARP matches them). YARP owns the destinations and the transport; this holds the
/// gateway's policies for each cluster.
/// </summary>
internal sealed class DownstreamRegistry
{
    /// <summary>Timeout of a call when neither its source nor its downstream sets one.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);

    private readonly Dictionary<string, DownstreamService> _downstreams;
    private readonly HashSet<string> _invalid;

    private DownstreamRegistry(Dictionary<string, DownstreamService> downstreams, HashSet<string> invalid)
    {
        _downstreams = downstreams;
        _invalid = invalid;
    }

    public int Count => _downstreams.Count;

    public IEnumerable<DownstreamService> All => _downstreams.Values;

    public bool TryGet(string clusterId, out DownstreamService downstream) => _downstreams.TryGetValue(clusterId, out downstream!);

    /// <summary>
    /// The cluster is declared, but its settings were refused (and reported under their own keys): whoever uses it
    /// fails without a second error of its own, such as "unknown cluster".
    /// </summary>
    public bool IsInvalid(string clusterId) => _invalid.Contains(clusterId);

    /// <summary>Builds the registry; every problem is added to <paramref name="errors"/> with its key.</summary>
    public static DownstreamRegistry Create(
        IReadOnlyDictionary<string, ClusterOptions> clusters,
        GatewayOptions options,
        TimeProvider timeProvider,
        List<string> errors)
    {
        var limits = new Dictionary<string, (string Key, DownstreamOptions Options)>(StringComparer.OrdinalIgnoreCase);
        foreach (var (id, limit) in options.Downstreams)
        {
            if (!clusters.Keys.Any(c => string.Equals(c, id, StringComparison.OrdinalIgnoreCase)))
            {
                errors.Add($"Gateway:Downstreams:{id}: no cluster '{id}' is declared to YARP (under ReverseProxy:Clusters, or in the clusters your app loads into YARP)");
            }
            else if (!limits.TryAdd(id, ($"Gateway:Downstreams:{id}", limit)))
            {
                errors.Add($"Gateway:Downstreams:{id}: cluster '{id}' is configured twice (cluster ids are case-insensitive)");
            }
        }

        var downstreams = new Dictionary<string, DownstreamService>(StringComparer.OrdinalIgnoreCase);
        var invalid = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (id, cluster) in clusters)
        {
            var key = $"ReverseProxy:Clusters:{id}";
            var valid = true;
            foreach (var (destinationId, destination) in cluster.Destinations)
            {
                if (!Uri.TryCreate(destination.Address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                    || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
                {
                    errors.Add($"{key}:Destinations:{destinationId}:Address: '{AddressRedaction.Redact(destination.Address)}' is not an absolute http(s) address without query");
                    valid = false;
                }
                else if (uri.UserInfo.Length > 0)
                {
                    // HttpClient never sends an address's user information; YARP writes the address into its log lines.
                    errors.Add($"{key}:Destinations:{destinationId}:Address: '{AddressRedaction.Redact(destination.Address)}' holds credentials, "
                        + "which the HTTP client does not send and the logs would show; send them in a header instead (a route's RequestHeader transform)");
                    valid = false;
                }
            }

            if (cluster.Destinations.Count == 0)
            {
                errors.Add($"{key}:Destinations: the cluster has no destination");
            }

            var (limitKey, limit) = limits.TryGetValue(id, out var found) ? found : ($"Gateway:Downstreams:{id}", new DownstreamOptions());
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

            for (var i = 0; i < limit.PropagateHeaders.Count; i++)
            {
                var header = limit.PropagateHeaders[i];
                valid &= HeaderPropagation.CheckConfigured(header, $"{limitKey}:PropagateHeaders:{i}", errors);
                if (string.Equals(header, options.Deadline.Header, StringComparison.OrdinalIgnoreCase))
                {
                    errors.Add($"{limitKey}:PropagateHeaders:{i}: '{header}' is the budget header (Gateway:Deadline:Header); the gateway writes the time left itself");
                    valid = false;
                }
            }

            var resilience = DownstreamResilience.Create(limit.Resilience, $"{limitKey}:Resilience", options.Deadline.MinBudget, timeProvider, errors);
            if (!valid)
            {
                invalid.Add(id);
                continue;
            }

            var limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
            {
                PermitLimit = limit.MaxConcurrency,
                QueueLimit = limit.MaxQueue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            });
            var headers = limit.PropagateHeadersMode == PropagateHeadersMode.Replace ? limit.PropagateHeaders : options.PropagateHeaders.Concat(limit.PropagateHeaders);
            downstreams[id] = new DownstreamService(id, limiter, limit.Timeout, limit.MaxResponseBytes, headers, options.Deadline.Header, resilience);
        }

        return new DownstreamRegistry(downstreams, invalid);
    }
}
