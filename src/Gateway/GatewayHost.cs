using Gateway.Aggregation;
using Gateway.Configuration;
using Gateway.Demo;

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
        builder.Services.AddProblemDetails();
        builder.Services.AddAggregation();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapDemoDownstreams();              // in-process demo services under /demo (Demo:Enabled)
        app.MapAggregates();                   // one endpoint per configured aggregate
        return app;
    }
}
