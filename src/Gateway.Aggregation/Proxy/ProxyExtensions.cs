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
            .AddTransforms(builder =>
            {
                // Resolved once per route, not per request (that would create the request's service scope).
                var guard = builder.Services.GetRequiredService<RouteGuardSettings>();
                builder.AddRequestTransform(context => SetBudgetAndTraceHeadersAsync(context, guard));
            });

        WithoutKeyRingWarmUp(services);
        // YARP's forwarder writes "Proxying to <address>" and the response's status at Information for every proxied
        // request (at a gateway's rate most of the log, with the destination's address) and every failure at Warning
        // with its exception (a stack trace and the address, per request); the route guard logs failures as the gateway
        // logs a failing source, throttled. Error and above only, unless the Logging section names this very category:
        // this rule goes first, so a rule of the same category from the configuration comes later and wins (a broader
        // one, such as "Yarp", does not).
        services.Configure<LoggerFilterOptions>(o => o.Rules.Insert(0, new LoggerFilterRule(null, ForwarderCategory, LogLevel.Error, null)));
        services.TryAddSingleton(sp => new RouteFailureLog(
            sp.GetRequiredService<ILogger<RouteFailureLog>>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Aggregation.AggregationCatalog>().Options.Logging.FailureLogInterval));
        services.TryAddSingleton<Downstream.CallTransports>();
        services.Replace(ServiceDescriptor.Singleton<IForwarderHttpClientFactory, GatewayHttpClientFactory>());
        services.TryAddSingleton(sp => new RouteGuardSettings(
            sp.GetRequiredService<Aggregation.AggregationCatalog>().Options.Deadline.Header, sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    // The client's trace headers stop here (the gateway's own are written when sending) and the budget header
    // carries the time left, not what the client sent.
    private static ValueTask SetBudgetAndTraceHeadersAsync(RequestTransformContext context, RouteGuardSettings guard)
    {
        var headers = context.ProxyRequest.Headers;
        foreach (var header in TracePropagation.Headers)
        {
            headers.Remove(header);
        }

        headers.Remove(guard.BudgetHeader);
        if (context.HttpContext.Features.Get<RouteDeadline>() is { } deadline)
        {
            headers.TryAddWithoutValidation(guard.BudgetHeader, deadline.TimeLeft(guard.TimeProvider));
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// YARP brings ASP.NET Core's data protection for its session-affinity cookies, and with it a hosted service that
    /// loads (or creates and writes to disk) the key ring at start: XML, cryptography and a key file for a feature few
    /// clusters use, some 9 MB of resident memory in every gateway. Without that service the key ring loads the first
    /// time a cookie is protected or read, which only a cluster with <c>SessionAffinity</c> does.
    /// </summary>
    internal static void WithoutKeyRingWarmUp(IServiceCollection services)
    {
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(IHostedService) && services[i].ImplementationType?.FullName == KeyRingWarmUp)
            {
                services.RemoveAt(i);
            }
        }
    }

    /// <summary>YARP's forwarder, whose per-request failure lines the gateway replaces with its own (<see cref="RouteFailureLog"/>).</summary>
    internal const string ForwarderCategory = "Yarp.ReverseProxy.Forwarder.HttpForwarder";

    internal const string KeyRingWarmUp = "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService";

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
