using Gateway;
using Gateway.Configuration;

if (args.Contains(ConfigurationSchema.Flag))
{
    Console.Write(ConfigurationSchema.Serialize());
    return 0;
}

if (args.Contains(CheckCommand.Flag))
{
    return CheckCommand.Run(args, Console.Out, Console.Error);
}

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
