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
    public static void Check(IConfigurationSection section, Type optionsType, List<string> errors)
    {
        foreach (var child in section.GetChildren())
        {
            var property = optionsType.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                errors.Add($"{child.Path}: unknown setting '{child.Key}' (known: {string.Join(", ", optionsType.GetProperties().Select(p => p.Name))})");
                continue;
            }

            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>) && IsOptions(type.GenericTypeArguments[1]))
            {
                foreach (var entry in child.GetChildren())
                {
                    Check(entry, type.GenericTypeArguments[1], errors);
                }
            }
            else if (type.IsPrimitive || type == typeof(TimeSpan))
            {
                CheckScalar(child, type, errors);
            }
        }
    }

    private static bool IsOptions(Type type) => type.Namespace == typeof(ConfigurationShape).Namespace;

    private static void CheckScalar(IConfigurationSection value, Type type, List<string> errors)
    {
        if (value.Value is null)
        {
            if (value.GetChildren().Any())
            {
                errors.Add($"{value.Path}: expected a single {type.Name} value, not an object");
            }

            return;
        }

        try
        {
            TypeDescriptor.GetConverter(type).ConvertFromString(null, CultureInfo.InvariantCulture, value.Value);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException or NotSupportedException)
        {
            var example = type == typeof(TimeSpan) ? " (a TimeSpan such as \"00:00:02\" or \"00:00:00.300\")" : "";
            errors.Add($"{value.Path}: '{value.Value}' is not a valid {type.Name}{example}");
        }
    }
}
