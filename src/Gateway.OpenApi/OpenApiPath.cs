using System.Text;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.OpenApi;

namespace Gateway.OpenApi;

/// <summary>An ASP.NET Core route template as an OpenAPI path: <c>/users/{id:int}</c> is <c>/users/{id}</c>, <c>{**rest}</c> is <c>{rest}</c>.</summary>
internal static class OpenApiPath
{
    public static string From(RoutePattern pattern, out IReadOnlyList<RoutePatternParameterPart> parameters)
    {
        var builder = new StringBuilder();
        var found = new List<RoutePatternParameterPart>();
        foreach (var segment in pattern.PathSegments)
        {
            builder.Append('/');
            foreach (var part in segment.Parts)
            {
                switch (part)
                {
                    case RoutePatternLiteralPart literal:
                        builder.Append(literal.Content);
                        break;
                    case RoutePatternSeparatorPart separator:
                        builder.Append(separator.Content);
                        break;
                    case RoutePatternParameterPart parameter:
                        builder.Append('{').Append(parameter.Name).Append('}');
                        found.Add(parameter);
                        break;
                }
            }
        }

        parameters = found;
        return builder.Length == 0 ? "/" : builder.ToString();
    }

    /// <summary>A path parameter; OpenAPI has no optional path parameters, so every one is required.</summary>
    public static OpenApiParameter Parameter(RoutePatternParameterPart part, string description)
    {
        var text = part.IsCatchAll ? $"{description} The rest of the path: it may hold '/'." : description;
        return new OpenApiParameter
        {
            Name = part.Name,
            In = ParameterLocation.Path,
            Required = true,
            Description = text.Trim(),
            Schema = SchemaOf(part),
        };
    }

    // The common constraints a client can act on; any other (regex, length) leaves a plain string.
    private static OpenApiSchema SchemaOf(RoutePatternParameterPart part)
    {
        foreach (var policy in part.ParameterPolicies)
        {
            switch (policy.Content)
            {
                case "int":
                    return new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" };
                case "long":
                    return new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64" };
                case "bool":
                    return new OpenApiSchema { Type = JsonSchemaType.Boolean };
                case "guid":
                    return new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" };
            }
        }

        return new OpenApiSchema { Type = JsonSchemaType.String };
    }
}
