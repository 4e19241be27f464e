using System.Text;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.OpenApi;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.OpenApi;

/// <summary>
/// The operations of a pass-through route: one per method it matches (the five common ones when it names
/// none), under their own tag. The request and the answer are the downstream's; only the gateway's own
/// answers are described.
/// </summary>
internal static class ProxyRouteOperations
{
    public const string Tag = "Pass-through routes";

    private static readonly string[] AnyMethod = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    public static IEnumerable<(string Path, HttpMethod Method, OpenApiOperation Operation)> Create(OpenApiDocument document, RouteConfig route)
    {
        if (route.Match.Path is not { } template)
        {
            yield break; // a route by host alone has no path to show
        }

        RoutePattern pattern;
        try
        {
            pattern = RoutePatternFactory.Parse(template);
        }
        catch (RoutePatternException)
        {
            yield break; // YARP refused it at start
        }

        var path = OpenApiPath.From(pattern, out var routeParameters);
        var description = Describe(route);
        foreach (var method in route.Match.Methods is { Count: > 0 } methods ? methods : AnyMethod)
        {
            var httpMethod = HttpMethod.Parse(method);
            var operation = new OpenApiOperation
            {
                OperationId = $"{route.RouteId}_{httpMethod.Method}",
                Summary = $"Pass-through route {route.RouteId}",
                Description = description,
                Tags = new HashSet<OpenApiTagReference> { new(Tag, document) },
                Parameters = [.. routeParameters.Select(p => (IOpenApiParameter)OpenApiPath.Parameter(p, "Route value."))],
                Responses = Responses(document),
            };
            if (httpMethod == HttpMethod.Post || httpMethod == HttpMethod.Put || httpMethod == HttpMethod.Patch)
            {
                operation.RequestBody = new OpenApiRequestBody
                {
                    Description = "Streamed to the downstream as it comes.",
                    Content = new Dictionary<string, IOpenApiMediaType> { ["*/*"] = new OpenApiMediaType { Schema = new OpenApiSchema() } },
                };
            }

            yield return (path, httpMethod, operation);
        }
    }

    private static string Describe(RouteConfig route)
    {
        var text = new StringBuilder("Forwarded to the downstream as it is (bodies streamed both ways, no retry); its answer comes back as it was sent.");
        if (route.Timeout is { } timeout)
        {
            text.Append(" Deadline ").Append(OpenApiText.Duration(timeout)).Append(" (a caller's lower budget wins).");
        }

        if (route.Match.Hosts is { Count: > 0 } hosts)
        {
            text.Append(" Only for host ").AppendJoin(", ", hosts.Select(h => $"`{h}`")).Append('.');
        }

        if (route.Match.Headers is { Count: > 0 } headers)
        {
            text.Append(" Only with header ").AppendJoin(", ", headers.Select(h => $"`{h.Name}`")).Append('.');
        }

        if (route.Match.QueryParameters is { Count: > 0 } query)
        {
            text.Append(" Only with query parameter ").AppendJoin(", ", query.Select(q => $"`{q.Name}`")).Append('.');
        }

        return text.ToString();
    }

    private static OpenApiResponses Responses(OpenApiDocument document)
    {
        var problem = new OpenApiSchemaReference(EnvelopeSchemas.Problem, document);
        OpenApiResponse Gateway(string description) => new()
        {
            Description = description,
            Content = new Dictionary<string, IOpenApiMediaType> { ["application/problem+json"] = new OpenApiMediaType { Schema = problem } },
        };

        return new OpenApiResponses
        {
            ["default"] = new OpenApiResponse { Description = "The downstream's answer: status, headers and body as it sent them." },
            ["429"] = Gateway("Too many requests from this client (`Gateway:RateLimiting:PerClient`); `Retry-After` says when to try again."),
            ["502"] = new OpenApiResponse { Description = "The downstream could not be reached or broke off its answer." },
            ["503"] = Gateway("The gateway did not send it: the downstream is at its concurrency limit, its circuit is open, it has no healthy destination, or the gateway is at `Gateway:RateLimiting:MaxConcurrentRequests`."),
            ["504"] = Gateway("The route's deadline (or the caller's budget) passed before the answer started."),
        };
    }
}
