using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Gateway.Configuration;

/// <summary>
/// The range rules declared on the options records (<c>[Range]</c>, <c>[ValidateObjectMembers]</c>), validated by code
/// the options validation source generator writes (no reflection at start). The catalog runs it with its own checks and
/// reports each failure under its configuration key (<see cref="KeyedFailures"/>), all at once with the rest.
/// </summary>
[OptionsValidator]
internal sealed partial class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    /// <summary>
    /// Each failure as the catalog reports it: <c>Gateway:Refresh:Workers: must be between 1 and ... (was 0)</c>. The
    /// generated message names the member's path (<c>The field GatewayOptions.Refresh.Workers must ...</c>), which is
    /// the configuration key under <paramref name="sectionPath"/>.
    /// </summary>
    public static IEnumerable<string> KeyedFailures(GatewayOptions options, string sectionPath)
    {
        var result = new GatewayOptionsValidator().Validate(null, options);
        foreach (var failure in result.Failed ? result.Failures ?? [] : [])
        {
            var match = FieldPattern().Match(failure);
            yield return match.Success
                ? $"{sectionPath}:{match.Groups["path"].Value.Replace('.', ':')}: {match.Groups["rule"].Value.TrimEnd('.')} (was {ValueAt(options, match.Groups["path"].Value)})"
                : $"{sectionPath}: {failure}";
        }
    }

    // Only on a failure: the value the message is about, by its path of property names.
    private static object? ValueAt(object? value, string path)
    {
        foreach (var name in path.Split('.'))
        {
            value = value?.GetType().GetProperty(name)?.GetValue(value);
        }

        return value;
    }

    [GeneratedRegex(@"The field GatewayOptions\.(?<path>[\w.]+) (?<rule>.+)$")]
    private static partial Regex FieldPattern();
}
