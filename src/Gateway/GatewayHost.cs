using Gateway.Aggregation;
using Gateway.Configuration;
using Gateway.Demo;
using Gateway.Diagnostics;
using Gateway.Health;
using Gateway.Limits;
using Gateway.Logging;
using Gateway.Proxy;
using Gateway.Shutdown;
using Gateway.Telemetry;

namespace Gateway;

/// <summary>The gateway's composition, one line per concern; Program.cs runs it, tests start it on a free port.</summary>
public static class GatewayHost
{
    /// <summary>
    /// Builds the gateway. Throws <see cref="GatewayConfigurationException"/> when the configuration is invalid.
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddGatewayConfiguration();     // --config / GATEWAY_CONFIG, else the root appsettings.json
        builder.AddGatewayLogging();           // Gateway:Logging:Json switches the console to JSON lines
        builder.AddGatewayTelemetry();         // OpenTelemetry: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, Prometheus (Gateway:Telemetry:Prometheus)
        builder.Services.AddProblemDetails();
        builder.AddGatewayLimits();            // trusted proxies, rate limits, load shedding, CORS, Kestrel limits
        builder.Services.AddGatewayProxy(builder.Configuration);   // YARP: clusters, health, transport, routes
        builder.Services.AddSingleton<IConfigurationCheck>(new HostConfigurationCheck(builder.Configuration));   // Kestrel's and YARP's keys in the file, named with the rest
        builder.Services.AddGateway(builder.Configuration.GetSection("Gateway"))   // the engine, as an app embeds it
            .AddCachedData()                   // datasets refreshed in the background, their readiness check
            .AddRedisSharing()                 // shared between instances when Gateway:Cache:Redis is set
            .AddManagement()                   // reserves /gateway/cache (Gateway:Management:Enabled)
            .AddOpenApi();                     // the OpenAPI document and Swagger UI, from the aggregates and routes
        builder.Services.AddGatewayHealth();
        builder.Services.AddDemoDownstreams(builder.Configuration);
        builder.Services.AddGatewayDiagnostics();   // thread-pool lag monitor (Gateway:Diagnostics)
        builder.Services.AddGatewayShutdown(); // on SIGTERM requests in flight get Gateway:Shutdown:DrainTimeout; the host's timeout past it
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseGatewayForwardedHeaders();      // the client's address and scheme from Gateway:TrustedProxies, before anything reads them
        app.UseGatewayRequestId();             // X-Request-Id: settled, echoed, forwarded, in every log scope
        app.UseRouting();                      // after the request id, so routing's own lines carry it too
        app.UseGatewayShutdown();              // counts aggregates and routes in flight; cuts routes when the drain is over
        app.UseGatewayLimits();                // CORS, 503 past MaxConcurrentRequests, 429 past rate limits
        app.UseRequestTimeouts();              // a route's Timeout (YARP maps it onto ASP.NET Core's request timeouts)
        app.MapDemoDownstreams();              // in-process demo services under /demo (Demo:Enabled)
        app.MapGateway();                      // one endpoint per configured aggregate; /gateway/cache (Gateway:Management:Enabled)
        app.MapGatewayHealth();                // /health/live, /health/ready
        app.MapGatewayTelemetry();             // /metrics (Gateway:Telemetry:Prometheus)
        app.MapGatewayProxy();                 // pass-through routes (ReverseProxy:Routes)
        app.MapGatewayOpenApi();               // /openapi/v1.json, Swagger UI at /swagger (Gateway:OpenApi:Enabled)
        return app;
    }
}
