using Gateway.Downstream;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Proxy;

internal static class ProxyExtensions
{
    /// <summary>
    /// YARP from the <c>ReverseProxy</c> section: the one registry of downstream clusters (destinations,
    /// health, load balancing, HttpClient settings) for routes and aggregates, and the pass-through routes.
    /// </summary>
    public static IServiceCollection AddGatewayProxy(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRequestTimeouts();
        services.AddReverseProxy()
            .LoadFromConfig(configuration.GetSection("ReverseProxy"))
            .AddTransforms(builder => builder.AddRequestTransform(context =>
            {
                // The client's trace headers stop here (the gateway's own are written when sending) and the
                // budget header carries the time left, not what the client sent.
                var headers = context.ProxyRequest.Headers;
                foreach (var header in TracePropagation.Headers)
                {
                    headers.Remove(header);
                }

                var guard = context.HttpContext.RequestServices.GetRequiredService<RouteGuardSettings>();
                headers.Remove(guard.BudgetHeader);
                if (context.HttpContext.Features.Get<RouteDeadline>() is { } deadline)
                {
                    headers.TryAddWithoutValidation(guard.BudgetHeader, deadline.TimeLeft(guard.TimeProvider));
                }

                return ValueTask.CompletedTask;
            }));
        services.TryAddSingleton<Downstream.CallTransports>();
        services.Replace(ServiceDescriptor.Singleton<IForwarderHttpClientFactory, GatewayHttpClientFactory>());
        services.TryAddSingleton(sp => new RouteGuardSettings(
            sp.GetRequiredService<Aggregation.AggregationCatalog>().Options.Deadline.Header, sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    /// <summary>Maps the pass-through routes, with the gateway's deadline, limit and breaker in YARP's pipeline.</summary>
    public static IEndpointRouteBuilder MapGatewayProxy(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapReverseProxy(pipeline =>
        {
            pipeline.UseMiddleware<RouteGuard>();
            pipeline.UseSessionAffinity();
            pipeline.UseLoadBalancing();
            pipeline.UsePassiveHealthChecks();
        });
        return endpoints;
    }
}

internal sealed record RouteGuardSettings(string BudgetHeader, TimeProvider TimeProvider);
