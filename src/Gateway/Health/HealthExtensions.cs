using Gateway.Caching;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Gateway.Health;

public static class HealthExtensions
{
    /// <summary>Liveness: the process answers; runs no check.</summary>
    public const string LivePath = "/health/live";

    /// <summary>Readiness: runs every health check tagged <c>ready</c> (the cached data's first loads, and any added with that tag).</summary>
    public const string ReadyPath = "/health/ready";

    /// <summary>Registers ASP.NET Core's health checks; each concern adds its own (the cached data adds its readiness).</summary>
    public static IServiceCollection AddGatewayHealth(this IServiceCollection services)
    {
        services.AddHealthChecks();
        return services;
    }

    /// <summary>
    /// Maps <c>/health/live</c> (200 while the process runs) and <c>/health/ready</c> (503 until every check
    /// tagged <c>ready</c> is healthy). Add checks of your own with <c>AddHealthChecks().AddCheck(..., tags: ["ready"])</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapGatewayHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = _ => false }).ExcludeFromDescription();
        endpoints.MapHealthChecks(ReadyPath, new HealthCheckOptions { Predicate = c => c.Tags.Contains(CachedDataReadinessCheck.ReadyTag) }).ExcludeFromDescription();
        return endpoints;
    }
}
