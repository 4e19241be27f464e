using Gateway.Configuration;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Gateway.Aggregation;

/// <summary>
/// Which configuration key owns each path and method: pass-through routes (<c>ReverseProxy:Routes</c>) and
/// aggregates may not answer the same requests, and neither may two aggregates; ASP.NET Core would start and
/// then fail every such request with an ambiguous-match 500. Paths compare by shape: parameter names and
/// constraints do not matter, literal text compares case-insensitively.
/// </summary>
internal sealed class EndpointClaims
{
    private readonly Dictionary<string, List<(string[]? Methods, string Key)>> _claims = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Claims the routes of the <c>ReverseProxy:Routes</c> section.</summary>
    public void ClaimProxyRoutes(IEnumerable<ProxyRouteDeclaration> routes, List<string> errors)
    {
        foreach (var route in routes)
        {
            // YARP reports a route without a path; one narrowed to some hosts, headers or query values leaves the rest of the path to others.
            if (!string.IsNullOrWhiteSpace(route.Path) && !route.Narrowed)
            {
                Claim(route.Path, route.Methods, route.Key, errors);
            }
        }
    }

    /// <summary>Claims <paramref name="methods"/> (null: all) on <paramref name="route"/> for <paramref name="key"/>; adds an error naming both keys on a clash.</summary>
    public bool Claim(string route, string[]? methods, string key, List<string> errors)
    {
        string shape;
        try
        {
            shape = Shape(RoutePatternFactory.Parse(route));
        }
        catch (RoutePatternException)
        {
            return true; // Reported where the pattern is compiled.
        }

        if (!_claims.TryGetValue(shape, out var owners))
        {
            _claims[shape] = owners = [];
        }

        foreach (var (ownerMethods, ownerKey) in owners)
        {
            if (ownerMethods is null || methods is null || ownerMethods.Intersect(methods, StringComparer.OrdinalIgnoreCase).Any())
            {
                var method = methods is null ? "any method" : string.Join("/", methods);
                errors.Add($"{key}: '{route}' ({method}) is already served by {ownerKey}; a path and method can have one owner");
                return false;
            }
        }

        owners.Add((methods, key));
        return true;
    }

    private static string Shape(RoutePattern pattern) => "/" + string.Join("/", pattern.PathSegments.Select(segment =>
        string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content.ToUpperInvariant(),
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart { IsCatchAll: true } => "{**}",
            RoutePatternParameterPart { IsOptional: true } => "{?}",
            _ => "{}",
        }))));
}
