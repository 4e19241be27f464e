using Gateway.Aggregation;
using Gateway.Configuration;
using Gateway.Demo;

try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddGatewayConfiguration();     // --config / GATEWAY_CONFIG, else the root appsettings.json
    builder.Services.AddProblemDetails();
    builder.Services.AddAggregation();

    var app = builder.Build();
    app.MapDemoDownstreams();              // in-process demo services under /demo (Demo:Enabled)
    app.MapAggregates();                   // one endpoint per configured aggregate
    app.Run();
    return 0;
}
catch (GatewayConfigurationException ex)
{
    // An operator's mistake, not a crash: say which keys are wrong, no stack trace.
    Console.Error.WriteLine(ex.Message);
    return 2;
}

/// <summary>The gateway's entry point (public for integration tests).</summary>
public partial class Program;
