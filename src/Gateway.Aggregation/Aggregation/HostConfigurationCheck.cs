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
    /// <summary>The sections the gateway reads whole; a near miss of one is a typo, not someone else's section.</summary>
    private static readonly string[] Sections = ["Gateway", "ReverseProxy", "Kestrel"];

    public void Check(GatewayOptions options, List<string> errors)
    {
        CheckSectionNames(errors);
        ConfigurationShape.CheckProxyTimeSpans(configuration, errors);
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

            if (Sections.FirstOrDefault(s => Distance(s, section.Key) <= 2) is { } meant)
            {
                errors.Add($"{section.Key}: unknown section '{section.Key}'; did you mean '{meant}'?");
            }
        }
    }

    // Levenshtein distance, case-insensitive; the names are short.
    private static int Distance(string a, string b)
    {
        a = a.ToUpperInvariant();
        b = b.ToUpperInvariant();
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
