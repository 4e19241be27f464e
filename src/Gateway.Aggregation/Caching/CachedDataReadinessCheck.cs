using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Caching;

/// <summary>Unhealthy until every <c>Required</c> dataset has loaded once; after that a failing refresh does not make the gateway unready (it serves the stale copy, then says <c>stale_expired</c>).</summary>
internal sealed class CachedDataReadinessCheck(DatasetRegistry datasets) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var waiting = datasets.All.Where(d => d.Definition.Required && d.Copy is null).Select(d => d.Name).ToList();
        return Task.FromResult(waiting.Count == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"required cached data not loaded yet: {string.Join(", ", waiting)}"));
    }
}
