using Gateway.Aggregation;
using Gateway.Model;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.OpenApi;

namespace Gateway.OpenApi;

/// <summary>The operation of one aggregate: its route and query parameters, its sources, its envelope and its statuses.</summary>
internal static class AggregateOperation
{
    public const string Tag = "Aggregates";

    private const string CompleteHeader = GatewayTraffic.CompleteHeader;

    public static OpenApiOperation Create(OpenApiDocument document, RoutePattern route, AggregateDefinition definition, string budgetHeader, IReadOnlyCollection<string> propagatedHeaders, out string path)
    {
        path = OpenApiPath.From(route, out var routeParameters);
        var parameters = new List<IOpenApiParameter>();
        var routeNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var parameter in routeParameters)
        {
            routeNames.Add(parameter.Name);
            parameters.Add(OpenApiPath.Parameter(parameter, UsedBy(definition, parameter.Name)));
        }

        // A placeholder that is no route value is read from the query.
        for (var i = 0; i < definition.ClientValues.Count; i++)
        {
            var name = definition.ClientValues[i];
            if (routeNames.Contains(name))
            {
                continue;
            }

            var required = definition.ClientValueRequired[i];
            parameters.Add(new OpenApiParameter
            {
                Name = name,
                In = ParameterLocation.Query,
                Required = required,
                Description = required
                    ? UsedBy(definition, name)
                    : $"{UsedBy(definition, name)} Optional: left out of the downstream calls when missing.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }

        parameters.Add(new OpenApiParameter
        {
            Name = budgetHeader,
            In = ParameterLocation.Header,
            Required = false,
            Description = $"Time the caller still gives this request, in whole milliseconds; a value below the aggregate's {OpenApiText.Duration(definition.Timeout)} becomes its deadline.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Minimum = "0" },
        });

        // The client's headers the sources' clusters receive (Gateway:PropagateHeaders and each downstream's own).
        foreach (var header in propagatedHeaders)
        {
            parameters.Add(new OpenApiParameter
            {
                Name = header,
                In = ParameterLocation.Header,
                Required = false,
                Description = "Passed on to the sources' downstreams as sent (a value with a control character is refused with 400).",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }

        var envelope = EnvelopeSchemas.AddEnvelope(document, definition);
        var problem = new OpenApiSchemaReference(EnvelopeSchemas.Problem, document);
        return new OpenApiOperation
        {
            OperationId = definition.Name,
            Summary = definition.Summary ?? $"Aggregate {definition.Name}",
            Description = definition.Description is { } description
                ? description + "\n\n" + AggregateDescription.For(definition)
                : AggregateDescription.For(definition),
            Tags = new HashSet<OpenApiTagReference> { new(Tag, document) },
            Parameters = parameters,
            Responses = new OpenApiResponses
            {
                ["200"] = Answer("Every required source answered. An optional one that failed is missing from `data`, listed in `errors`, and `X-Aggregate-Complete` is false.", envelope),
                ["400"] = Refusal("A route or query value the sources need is missing or empty, a value for a path segment is `.` or `..` or holds `/` or `\\`, or a header to propagate holds a control character. Problem details name the parameter or header.", problem, retryAfter: false),
                ["429"] = Refusal("Too many requests from this client or to this aggregate (`Gateway:RateLimiting`, the aggregate's `RateLimit`); `Retry-After` says when to try again.", problem, retryAfter: true),
                ["502"] = Answer("A required source failed at the downstream: an error status, no connection, an invalid or too large answer, or a cached dataset not loaded or too stale. The envelope holds what the other sources gave.", envelope),
                ["503"] = Shed(envelope, problem),
                ["504"] = Answer("A required source timed out, by its own timeout or the request's deadline. The envelope holds what the other sources gave.", envelope),
            },
        };
    }

    private static string UsedBy(AggregateDefinition definition, string name)
    {
        var users = definition.Sources
            .Where(s => s.Path.Placeholders.Any(p => !p.IsSourceField && string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)))
            .Select(s => $"`{s.Name}`")
            .ToList();
        return users.Count == 0 ? "Not used by any source." : $"Sent to {string.Join(", ", users)}.";
    }

    private static OpenApiResponse Answer(string description, IOpenApiSchema envelope) => new()
    {
        Description = description,
        Headers = new Dictionary<string, IOpenApiHeader> { [CompleteHeader] = CompleteHeaderSchema() },
        Content = new Dictionary<string, IOpenApiMediaType> { ["application/json"] = new OpenApiMediaType { Schema = envelope } },
    };

    private static OpenApiResponse Refusal(string description, IOpenApiSchema problem, bool retryAfter)
    {
        var headers = new Dictionary<string, IOpenApiHeader>();
        if (retryAfter)
        {
            headers["Retry-After"] = RetryAfter();
        }
        else
        {
            headers[CompleteHeader] = CompleteHeaderSchema();
        }

        return new OpenApiResponse
        {
            Description = description,
            Headers = headers,
            Content = new Dictionary<string, IOpenApiMediaType> { ["application/problem+json"] = new OpenApiMediaType { Schema = problem } },
        };
    }

    // Either the envelope (the gateway did not let a required source's call through) or problem details
    // (the gateway shed the whole request); both say when to try again.
    private static OpenApiResponse Shed(IOpenApiSchema envelope, IOpenApiSchema problem) => new()
    {
        Description = "The gateway itself did not let it through: a required source's call was rejected at its downstream's concurrency limit, "
            + "its circuit is open, or it was cancelled (the envelope), or the gateway is at `Gateway:RateLimiting:MaxConcurrentRequests` "
            + "(problem details). No downstream said anything; `Retry-After` says when to try again.",
        Headers = new Dictionary<string, IOpenApiHeader> { ["Retry-After"] = RetryAfter() },
        Content = new Dictionary<string, IOpenApiMediaType>
        {
            ["application/json"] = new OpenApiMediaType { Schema = envelope },
            ["application/problem+json"] = new OpenApiMediaType { Schema = problem },
        },
    };

    private static OpenApiHeader CompleteHeaderSchema() => new()
    {
        Description = "Whether every source succeeded.",
        Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = ["true", "false"] },
    };

    private static OpenApiHeader RetryAfter() => new()
    {
        Description = "Seconds to wait before trying again.",
        Schema = new OpenApiSchema { Type = JsonSchemaType.Integer },
    };
}
