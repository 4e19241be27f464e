using System.Diagnostics.CodeAnalysis;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Gateway.Tests.Downstream;

/// <summary>YARP's cluster state for unit tests: clusters whose destinations all send through one fake handler.</summary>
internal sealed class TestProxyState(HttpMessageHandler handler) : IProxyStateLookup
{
    private readonly Dictionary<string, ClusterState> _clusters = new(StringComparer.OrdinalIgnoreCase);
    private readonly HttpMessageInvoker _invoker = new(handler, disposeHandler: false);

    /// <summary>Adds cluster <paramref name="id"/> with the given destination addresses (ids d0, d1, ...).</summary>
    public ClusterState AddCluster(string id, params string[] addresses)
    {
        var config = new ClusterConfig
        {
            ClusterId = id,
            Destinations = addresses.Select((a, i) => (Id: $"d{i}", Address: a)).ToDictionary(d => d.Id, d => new DestinationConfig { Address = d.Address }),
        };
        var cluster = new ClusterState(id, new ClusterModel(config, _invoker));
        var destinations = addresses.Select((a, i) => new DestinationState($"d{i}", new DestinationModel(new DestinationConfig { Address = a }))).ToArray();
        foreach (var destination in destinations)
        {
            cluster.Destinations[destination.DestinationId] = destination;
        }

        cluster.DestinationsState = new ClusterDestinationsState(destinations, destinations);
        _clusters[id] = cluster;
        return cluster;
    }

    public bool TryGetCluster(string id, [NotNullWhen(true)] out ClusterState? cluster) => _clusters.TryGetValue(id, out cluster);

    public IEnumerable<ClusterState> GetClusters() => _clusters.Values;

    public bool TryGetRoute(string id, [NotNullWhen(true)] out RouteModel? route)
    {
        route = null;
        return false;
    }

    public IEnumerable<RouteModel> GetRoutes() => [];
}
