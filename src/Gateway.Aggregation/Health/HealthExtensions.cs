using Gateway.Configuration;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Health;

internal static class HealthExtensions
{
    /// <summary>Liveness: the process answers; runs no check.</summary>
    public const string LivePath = "/health/live";

    /// <summary>Readiness: runs every health check tagged <see cref="ReadyTag"/>.</summary>
    public const string ReadyPath = "/health/ready";

    /// <summary>The tag of the checks <c>/health/ready</c> runs; a check of your own with this tag is run too.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Registers ASP.NET Core's health checks with the gateway's readiness checks: the configuration is in effect
    /// (<c>configuration</c>) and every cluster has an available destination (<c>clusters</c>). Other concerns add
    /// their own (the cached data adds <c>cached-data</c>).
    /// </summary>
    public static IServiceCollection AddGatewayHealth(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IReservedEndpoints, Probes>());
        services.TryAddSingleton<ReadinessLog>();
        // ASP.NET Core's health-check service writes an Error (three lines) per failing check per probe; readiness is
        // logged once per change instead (ReadinessLog). First in the rules, so that the same category in the Logging
        // section still decides.
        services.Configure<LoggerFilterOptions>(o => o.Rules.Insert(0, new LoggerFilterRule(null, HealthCheckServiceCategory, LogLevel.Critical, null)));
        services.AddHealthChecks()
            .AddCheck<ConfigurationReadinessCheck>("configuration", tags: [ReadyTag])
            .AddCheck<ClusterAvailabilityCheck>("clusters", tags: [ReadyTag]);
        return services;
    }

    /// <summary>
    /// Maps <c>/health/live</c> (200 while the process runs) and <c>/health/ready</c> (503 until every check
    /// tagged <c>ready</c> is healthy), both answering JSON and never rate limited (a probe must not be refused). Add checks of your own with
    /// <c>AddHealthChecks().AddCheck(..., tags: [HealthExtensions.ReadyTag])</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapGatewayHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = _ => false, ResponseWriter = HealthResponseWriter.WriteAsync })
            .DisableRateLimiting()
            .ExcludeFromDescription();
        var readiness = endpoints.ServiceProvider.GetRequiredService<ReadinessLog>();
        endpoints.MapHealthChecks(ReadyPath, new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains(ReadyTag),
            ResponseWriter = (context, report) =>
            {
                readiness.Observe(report);
                return HealthResponseWriter.WriteAsync(context, report);
            },
        })
            .DisableRateLimiting()
            .ExcludeFromDescription();
        return endpoints;
    }

    internal const string HealthCheckServiceCategory = "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService";

    internal sealed class Probes : IReservedEndpoints
    {
        public IEnumerable<ReservedEndpoint> Reserve(GatewayOptions options) =>
            [new(LivePath, null, "the liveness check"), new(ReadyPath, null, "the readiness check")];
    }
}
