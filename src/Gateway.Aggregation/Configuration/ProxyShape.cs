using System.Reflection;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Configuration;

/// <summary>
/// Unknown keys under <c>ReverseProxy</c>, which YARP's binder ignores: a misspelt <c>LoadBalancingPolcy</c> would run
/// the cluster on the default policy, a <c>Destination</c> for <c>Destinations</c> leave it without any. Checked
/// against YARP's own configuration types (<see cref="RouteConfig"/>, <see cref="ClusterConfig"/> and what they hold),
/// so a key YARP adds is known as soon as the package is; free-form maps (<c>Metadata</c>, <c>Transforms</c>, header
/// values) are not looked into. Values are YARP's to judge (<see cref="ProxyDeclarations"/> runs its validator).
/// </summary>
internal static class ProxyShape
{
    public static void Check(IConfigurationSection proxy, List<string> errors)
    {
        foreach (var section in proxy.GetChildren())
        {
            var entryType = section.Key.ToUpperInvariant() switch
            {
                "ROUTES" => typeof(RouteConfig),
                "CLUSTERS" => typeof(ClusterConfig),
                _ => null,
            };
            if (entryType is null)
            {
                errors.Add($"{section.Path}: unknown setting '{section.Key}'{NearMiss.Suggestion(section.Key, ["Routes", "Clusters"])} (known: Routes, Clusters)");
                continue;
            }

            foreach (var entry in section.GetChildren())
            {
                CheckObject(entry, entryType, errors);
            }
        }
    }

    private static void CheckObject(IConfigurationSection section, Type type, List<string> errors)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToArray();
        foreach (var child in section.GetChildren())
        {
            var property = properties.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                var names = properties.Select(p => p.Name).ToArray();
                errors.Add($"{child.Path}: unknown setting '{child.Key}'{NearMiss.Suggestion(child.Key, names)} (known: {string.Join(", ", names)})");
                continue;
            }

            CheckValue(child, property.PropertyType, errors);
        }
    }

    private static void CheckValue(IConfigurationSection value, Type type, List<string> errors)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsProxyType(type))
        {
            CheckObject(value, type, errors);
        }
        else if (ElementOf(type) is { } element && IsProxyType(element))
        {
            // A map keyed by name (Destinations) or a list (Match:Headers): each entry is one of YARP's objects.
            foreach (var entry in value.GetChildren())
            {
                CheckObject(entry, element, errors);
            }
        }
    }

    // YARP's own configuration classes: those are checked key by key; anything else is a value or a free-form map.
    private static bool IsProxyType(Type type) =>
        type.IsClass && type.Namespace?.StartsWith("Yarp.ReverseProxy", StringComparison.Ordinal) == true;

    // The entry type of IReadOnlyDictionary<string, T> or IReadOnlyList<T>.
    private static Type? ElementOf(Type type)
    {
        if (!type.IsGenericType)
        {
            return null;
        }

        var arguments = type.GetGenericArguments();
        return arguments.Length switch
        {
            2 when arguments[0] == typeof(string) => arguments[1],
            1 => arguments[0],
            _ => null,
        };
    }
}
