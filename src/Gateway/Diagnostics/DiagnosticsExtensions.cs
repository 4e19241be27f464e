using Gateway.Configuration;
using Gateway.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Diagnostics;

internal static class DiagnosticsExtensions
{
    /// <summary>Runs the thread-pool lag monitor (<c>Gateway:Diagnostics:LagWarning</c>) for the host's lifetime.</summary>
    public static IServiceCollection AddGatewayDiagnostics(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
            return new ThreadPoolLagMonitor(
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<ThreadPoolLagMonitor>>(),
                sp.GetRequiredService<GatewayMetrics>(),
                options.Diagnostics.LagWarning,
                options.Logging.FailureLogInterval);
        });
        services.AddHostedService(sp => sp.GetRequiredService<ThreadPoolLagMonitor>());
        return services;
    }
}
