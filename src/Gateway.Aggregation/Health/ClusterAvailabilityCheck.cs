using Microsoft.Extensions.Diagnostics.HealthChecks;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Gateway.Health;

/// <summary>
/// Unhealthy while a cluster has no available destination in YARP's live state: none configured, or every one
/// marked Unhealthy by an enabled active or passive health check. YARP's default <c>HealthyOrPanic</c> policy then
/// still sends to all of them ("panic"), so its own available list is not used here. Names the clusters, never
/// their addresses.
/// </summary>
internal sealed class ClusterAvailabilityCheck(IProxyStateLookup proxyState) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        List<string>? without = null;
        var count = 0;
        foreach (var cluster in proxyState.GetClusters())
        {
            count++;
            if (!HasAvailableDestination(cluster))
            {
                (without ??= []).Add(cluster.ClusterId);
            }
        }

        return Task.FromResult(without is null
            ? HealthCheckResult.Healthy($"{count} clusters, each with an available destination")
            : HealthCheckResult.Unhealthy($"no available destination in cluster(s): {string.Join(", ", without.Order(StringComparer.Ordinal))}"));
    }

    private static bool HasAvailableDestination(ClusterState cluster)
    {
        var healthCheck = cluster.Model.Config.HealthCheck;
        var active = healthCheck?.Active?.Enabled == true;
        var passive = healthCheck?.Passive?.Enabled == true;
        foreach (var destination in cluster.DestinationsState.AllDestinations)
        {
            if (!(active && destination.Health.Active == DestinationHealth.Unhealthy)
                && !(passive && destination.Health.Passive == DestinationHealth.Unhealthy))
            {
                return true;
            }
        }

        return false;
    }
}
