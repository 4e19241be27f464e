using Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Shutdown;

internal static class ShutdownExtensions
{
    /// <summary>
    /// What the cut-off requests' answers and the services stopping after the server may still take once the
    /// drain is over: the host's <see cref="HostOptions.ShutdownTimeout"/> is the drain plus this, so that the
    /// drain, not the host, decides when requests are cut.
    /// </summary>
    public static readonly TimeSpan HostMargin = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The drain on SIGTERM (<c>Gateway:Shutdown:DrainTimeout</c>), and the host's shutdown timeout set past it.
    /// </summary>
    public static IServiceCollection AddGatewayShutdown(this IServiceCollection services)
    {
        services.AddShutdownDrain();
        services.AddOptions<HostOptions>().Configure<IOptions<GatewayOptions>>((host, gateway) =>
            host.ShutdownTimeout = gateway.Value.Shutdown.HostShutdownTimeout(HostMargin));
        return services;
    }

    /// <summary>
    /// The drain alone, which the calls in flight stop at (<see cref="ShutdownDrain.Expired"/>): an app that embeds the
    /// engine keeps its own shutdown timeout; without <see cref="UseGatewayShutdown"/> nothing is counted in flight and
    /// the drain ends when the app starts stopping.
    /// </summary>
    internal static IServiceCollection AddShutdownDrain(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ShutdownDrain(
            sp.GetRequiredService<IHostApplicationLifetime>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Shutdown.DrainTimeout,
            sp.GetRequiredService<ILogger<ShutdownDrain>>()));
        return services;
    }

    /// <summary>Counts the aggregates and routes in flight and cuts the routes when the drain is over; after routing.</summary>
    public static IApplicationBuilder UseGatewayShutdown(this IApplicationBuilder app)
    {
        // Resolved now: the drain must be listening to ApplicationStopping before the first request.
        var drain = app.ApplicationServices.GetRequiredService<ShutdownDrain>();
        return app.UseMiddleware<ShutdownDrainMiddleware>(drain);
    }
}
