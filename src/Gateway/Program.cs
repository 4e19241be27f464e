using Gateway;
using Gateway.Configuration;

try
{
    GatewayHost.Build(args).Run();
    return 0;
}
catch (GatewayConfigurationException ex)
{
    // An operator's mistake, not a crash: say which keys are wrong, no stack trace.
    Console.Error.WriteLine(ex.Message);
    return 2;
}
