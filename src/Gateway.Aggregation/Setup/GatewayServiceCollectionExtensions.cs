using Gateway.Aggregation;
using Gateway.Caching;
using Gateway.Management;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gateway's aggregation engine in an ASP.NET Core app.</summary>
public static class GatewayServiceCollectionExtensions
{
    /// <summary>
    /// Registers the aggregation engine from <paramref name="section"/> (the app's <c>Gateway</c> section: aggregates,
    /// downstream limits and resilience, deadline, cache). The clusters its sources call are YARP's: register YARP
    /// with <c>services.AddReverseProxy()</c> and load clusters as YARP does (<c>LoadFromConfig</c>,
    /// <c>LoadFromMemory</c>, a discovery provider). The app's configuration sources, rate limiter and CORS
    /// policies are left as they are. Map the aggregates with
    /// <see cref="Microsoft.AspNetCore.Builder.GatewayEndpointRouteBuilderExtensions.MapGateway"/>.
    /// </summary>
    /// <returns>A builder for the optional features (<see cref="GatewayBuilderExtensions.AddCachedData"/>, ...).</returns>
    public static IGatewayBuilder AddGateway(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        if (section is not IConfigurationSection gateway)
        {
            // Keys are reported under the section's path: a whole configuration has none.
            throw new ArgumentException("pass the gateway's section, e.g. configuration.GetSection(\"Gateway\"), not the whole configuration", nameof(section));
        }

        services.AddAggregation(gateway);
        return new GatewayBuilder(services);
    }

    private sealed class GatewayBuilder(IServiceCollection services) : IGatewayBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}

/// <summary>The gateway's registration, for its optional features.</summary>
public interface IGatewayBuilder
{
    /// <summary>The app's services.</summary>
    IServiceCollection Services { get; }
}

/// <summary>The gateway's optional features.</summary>
public static class GatewayBuilderExtensions
{
    /// <summary>
    /// Cached data: the datasets of the section's <c>CachedData</c>, refreshed in the background and served stale for
    /// a bounded time when their downstream fails, with a readiness check for the required ones; shared between
    /// instances through Redis when <c>Cache:Redis</c> is set.
    /// </summary>
    public static IGatewayBuilder AddCachedData(this IGatewayBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddCachedDataCore();
        return builder;
    }

    /// <summary>
    /// The management endpoints (<c>GET /gateway/cache</c>, <c>POST /gateway/cache/{name}/refresh</c>) when the
    /// section's <c>Management:Enabled</c> is true; <see cref="Microsoft.AspNetCore.Builder.GatewayEndpointRouteBuilderExtensions.MapGateway"/> maps them.
    /// </summary>
    public static IGatewayBuilder AddManagement(this IGatewayBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddGatewayManagement();
        return builder;
    }
}
