using Gateway.Configuration;
using Gateway.Limits;

namespace Gateway.Aggregation;

/// <summary>
/// What the gateway's own host checks besides the <c>Gateway</c> section: YARP's durations and Kestrel's limits in
/// the file, which YARP and Kestrel would otherwise refuse with a stack trace. Not registered when the engine is
/// embedded: the app's configuration is the app's.
/// </summary>
internal sealed class HostConfigurationCheck(IConfiguration configuration) : IConfigurationCheck
{
    public void Check(GatewayOptions options, List<string> errors)
    {
        ConfigurationShape.CheckProxyTimeSpans(configuration, errors);
        KestrelLimits.Check(configuration, errors);
    }
}
