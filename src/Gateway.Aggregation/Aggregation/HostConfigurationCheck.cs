using Gateway.Configuration;
using Gateway.Limits;

namespace Gateway.Aggregation;

/// <summary>
/// What the gateway's own host checks besides the <c>Gateway</c> section: misspelt section names, unknown keys under
/// <c>ReverseProxy</c> (which YARP ignores), YARP's durations and Kestrel's limits in the file, which YARP and Kestrel
/// would otherwise refuse with a stack trace. Not registered when the engine is
/// embedded: the app's configuration is the app's.
/// </summary>
internal sealed class HostConfigurationCheck(IConfiguration configuration) : IConfigurationCheck
{
    /// <summary>The sections the gateway reads whole; a near miss of one is a typo, not someone else's section.</summary>
    private static readonly string[] Sections = ["Gateway", "ReverseProxy", "Kestrel"];

    public void Check(GatewayOptions options, List<string> errors)
    {
        CheckSectionNames(errors);
        ConfigurationShape.CheckProxyTimeSpans(configuration, errors);
        ProxyShape.Check(configuration.GetSection("ReverseProxy"), errors);
        KestrelLimits.Check(configuration, errors);
    }

    // "Gatway" would otherwise start a gateway with no aggregates, every path a 404.
    private void CheckSectionNames(List<string> errors)
    {
        foreach (var section in configuration.GetChildren())
        {
            if (Sections.Any(s => string.Equals(s, section.Key, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            if (NearMiss.Closest(section.Key, Sections) is { } meant)
            {
                errors.Add($"{section.Key}: unknown section '{section.Key}'; did you mean '{meant}'?");
            }
        }
    }
}
