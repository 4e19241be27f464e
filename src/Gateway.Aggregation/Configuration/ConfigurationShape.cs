using System.ComponentModel;
using System.Globalization;
using System.Reflection;

namespace Gateway.Configuration;

/// <summary>
/// Checks a configuration section against the options type it binds to before binding: keys that bind to
/// nothing (a misspelt <c>Requried</c>) and values that do not convert (<c>"Timeout": "soon"</c>), each
/// named by its full key. The binder would ignore the first silently and, inside a dictionary, drop the
/// whole entry on the second.
/// </summary>
internal static class ConfigurationShape
{
    /// <summary>
    /// Checks <paramref name="section"/> and returns a copy of it that binds without surprises: keyed by full
    /// path, durations rewritten to the invariant <c>"c"</c> form and every refused value left out, so one
    /// bad value costs one error and not the binding of the whole section.
    /// </summary>
    public static Dictionary<string, string?> Check(IConfigurationSection section, Type optionsType, List<string> errors)
    {
        var normalized = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        CheckOptions(section, optionsType, errors, normalized);
        return normalized;
    }

    /// <summary>
    /// Refuses YARP's own TimeSpan keys when YARP would misread them: it parses them with
    /// <see cref="TimeSpan.Parse(string, IFormatProvider)"/>, which reads a bare <c>"2"</c> as two days.
    /// </summary>
    public static void CheckProxyTimeSpans(IConfiguration configuration, List<string> errors)
    {
        foreach (var value in ProxyTimeSpans(configuration))
        {
            CheckProxyTimeSpan(value, errors);
        }
    }

    /// <summary>
    /// YARP's TimeSpan keys written as Go-style durations (<c>500ms</c>), rewritten to the form YARP reads
    /// (<c>00:00:00.5000000</c>), for a configuration layer above the file.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string?>> ProxyDurationOverrides(IConfiguration configuration)
    {
        foreach (var value in ProxyTimeSpans(configuration))
        {
            if (value.Value is { } text && !text.Contains(':', StringComparison.Ordinal) && DurationText.TryParse(text, out var duration))
            {
                yield return new(value.Path, duration.ToString("c", CultureInfo.InvariantCulture));
            }
        }
    }

    private static IEnumerable<IConfigurationSection> ProxyTimeSpans(IConfiguration configuration)
    {
        foreach (var route in configuration.GetSection("ReverseProxy:Routes").GetChildren())
        {
            yield return route.GetSection("Timeout");
        }

        foreach (var cluster in configuration.GetSection("ReverseProxy:Clusters").GetChildren())
        {
            yield return cluster.GetSection("HttpRequest:ActivityTimeout");
            yield return cluster.GetSection("HealthCheck:Active:Interval");
            yield return cluster.GetSection("HealthCheck:Active:Timeout");
            yield return cluster.GetSection("HealthCheck:Passive:ReactivationPeriod");
            yield return cluster.GetSection("SessionAffinity:Cookie:Expiration");
            yield return cluster.GetSection("SessionAffinity:Cookie:MaxAge");
        }
    }

    private static void CheckProxyTimeSpan(IConfigurationSection value, List<string> errors)
    {
        const string Form = "write a duration such as \"2s\", \"500ms\" or \"00:00:02\"";
        if (value.Value is not { } text)
        {
            return;
        }

        if (DurationText.IsBareNumber(text))
        {
            errors.Add($"{value.Path}: '{text}' is a bare number, which YARP reads as days; {Form}");
        }
        else if (!DurationText.TryParse(text, out _))
        {
            // Go-style values reach YARP rewritten (ProxyDurationOverrides); anything else YARP cannot read.
            errors.Add($"{value.Path}: '{text}' is not a duration; {Form}");
        }
    }

    private static void CheckOptions(IConfigurationSection section, Type optionsType, List<string> errors, Dictionary<string, string?> normalized)
    {
        if (section.Value is { Length: > 0 } && !section.GetChildren().Any())
        {
            errors.Add($"{section.Path}: expected an object with the settings {Known(optionsType)}, not '{section.Value}'");
            return;
        }

        CopyEmpty(section, normalized);
        foreach (var child in section.GetChildren())
        {
            var property = optionsType.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                errors.Add($"{child.Path}: unknown setting '{child.Key}'{NearMiss.Suggestion(child.Key, optionsType.GetProperties().Select(p => p.Name))} (known: {Known(optionsType)})");
                continue;
            }

            CheckValue(child, property.PropertyType, errors, normalized);
        }
    }

    private static void CheckValue(IConfigurationSection value, Type declared, List<string> errors, Dictionary<string, string?> normalized)
    {
        var type = Nullable.GetUnderlyingType(declared) ?? declared;
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>) && type.GenericTypeArguments[0] == typeof(string))
        {
            CheckEntries(value, type.GenericTypeArguments[1], "an object", errors, normalized);
        }
        else if (ElementType(type) is { } element)
        {
            CheckEntries(value, element, "a list", errors, normalized);
        }
        else if (IsOptions(type))
        {
            CheckOptions(value, type, errors, normalized);
        }
        else
        {
            CheckScalar(value, type, errors, normalized);
        }
    }

    private static void CheckEntries(IConfigurationSection container, Type entryType, string expected, List<string> errors, Dictionary<string, string?> normalized)
    {
        if (container.Value is { Length: > 0 } && !container.GetChildren().Any())
        {
            errors.Add($"{container.Path}: expected {expected}, not the single value '{container.Value}'");
            return;
        }

        CopyEmpty(container, normalized);
        foreach (var entry in container.GetChildren())
        {
            CheckValue(entry, entryType, errors, normalized);
        }
    }

    private static void CheckScalar(IConfigurationSection value, Type type, List<string> errors, Dictionary<string, string?> normalized)
    {
        if (value.Value is not { } text)
        {
            if (value.GetChildren().Any())
            {
                errors.Add($"{value.Path}: expected a single {type.Name} value, not an object");
            }
            else
            {
                normalized[value.Path] = null;
            }

            return;
        }

        if (type == typeof(TimeSpan))
        {
            if (DurationText.TryParse(text, out var duration))
            {
                normalized[value.Path] = duration.ToString("c", CultureInfo.InvariantCulture);
            }
            else
            {
                errors.Add($"{value.Path}: {DurationText.Explain(text)}");
            }

            return;
        }

        if (type.IsEnum)
        {
            // Names only: the binder would also take any number, defined or not.
            if (Enum.GetNames(type).FirstOrDefault(n => n.Equals(text.Trim(), StringComparison.OrdinalIgnoreCase)) is { } name)
            {
                normalized[value.Path] = name;
            }
            else
            {
                errors.Add($"{value.Path}: '{text}' is not one of {string.Join(", ", Enum.GetNames(type))}");
            }

            return;
        }

        try
        {
            TypeDescriptor.GetConverter(type).ConvertFromString(null, CultureInfo.InvariantCulture, text);
            normalized[value.Path] = text;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException or NotSupportedException)
        {
            errors.Add($"{value.Path}: '{text}' is not a valid {type.Name}");
        }
    }

    // An empty object or list ({} or []) reads as a key without value; keep it so that the binder still
    // creates the entry it names (an aggregate without settings is reported by the compiler, not lost).
    private static void CopyEmpty(IConfigurationSection section, Dictionary<string, string?> normalized)
    {
        if (section.Value is null or "" && !section.GetChildren().Any())
        {
            normalized[section.Path] = section.Value;
        }
    }

    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (!type.IsGenericType)
        {
            return null;
        }

        var definition = type.GetGenericTypeDefinition();
        return definition == typeof(List<>) || definition == typeof(IList<>) || definition == typeof(IReadOnlyList<>)
            || definition == typeof(ICollection<>) || definition == typeof(IReadOnlyCollection<>) || definition == typeof(IEnumerable<>)
            ? type.GenericTypeArguments[0]
            : null;
    }

    private static string Known(Type optionsType) => string.Join(", ", optionsType.GetProperties().Select(p => p.Name));

    // What the binder binds as an object: a class that is neither a collection (tried first) nor a text-like scalar.
    // By shape, not by namespace: an options record moved to another namespace or library is still recursed into.
    private static bool IsOptions(Type type) => type.IsClass && type != typeof(string) && type != typeof(Uri);
}
