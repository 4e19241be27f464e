using Gateway.Downstream;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Yarp.ReverseProxy;

namespace Gateway.Health;

/// <summary>
/// Unhealthy until the gateway's configuration is in effect: the host has started (aggregates mapped, YARP's
/// configuration applied) and every cluster the aggregates and datasets call is in YARP's live state (a YARP
/// configuration reload that dropped one would otherwise leave those sources failing). Unhealthy again from the
/// moment the host starts stopping (SIGTERM): a draining gateway takes no new traffic.
/// </summary>
internal sealed class ConfigurationReadinessCheck(DownstreamRegistry downstreams, IProxyStateLookup proxyState, IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!lifetime.ApplicationStarted.IsCancellationRequested)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("the gateway is still starting"));
        }

        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("the gateway is shutting down"));
        }

        var missing = downstreams.All
            .Select(d => d.Id)
            .Where(id => !proxyState.TryGetCluster(id, out _))
            .Order(StringComparer.Ordinal)
            .ToList();
        return Task.FromResult(missing.Count == 0
            ? HealthCheckResult.Healthy($"configuration loaded: {downstreams.Count} clusters")
            : HealthCheckResult.Unhealthy($"cluster(s) used by aggregates or cached data missing from ReverseProxy:Clusters: {string.Join(", ", missing)}"));
    }
}
