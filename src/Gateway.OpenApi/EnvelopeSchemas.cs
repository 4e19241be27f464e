using System.Text.Json.Nodes;
using Gateway.Aggregation;
using Gateway.Model;
using Microsoft.OpenApi;

namespace Gateway.OpenApi;

/// <summary>
/// The schemas of the answers: an aggregate's envelope (<c>data</c> with one property per source, <c>errors</c>,
/// <c>meta</c>), shared by every aggregate but for <c>data</c> and <c>meta.sources</c>, and the problem details
/// of the gateway's refusals. See README "Response contract".
/// </summary>
internal static class EnvelopeSchemas
{
    public const string SourceError = "SourceError";
    public const string SourceMeta = "SourceMeta";
    public const string Problem = "ProblemDetails";

    /// <summary>Adds the shared components (once per document).</summary>
    public static void AddShared(OpenApiDocument document)
    {
        var schemas = Schemas(document);
        schemas.TryAdd(SourceError, new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "A source that gave no data.",
            Required = new HashSet<string> { "source", "kind", "message", "elapsedMs" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["source"] = String("The source's name."),
                ["kind"] = Enum("Why it failed.", Kinds()),
                ["status"] = Integer("The downstream's status, for `http_status`."),
                ["message"] = String("What happened, for people."),
                ["elapsedMs"] = Integer("Time the source took."),
            },
        });
        schemas.TryAdd(SourceMeta, new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "What became of one source.",
            Required = new HashSet<string> { "outcome", "elapsedMs" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["outcome"] = Enum("`ok`, else the error's kind.", ["ok", .. Kinds()]),
                ["status"] = Integer("The downstream's status, when it answered."),
                ["elapsedMs"] = Integer("Time the source took (0 for a cached dataset)."),
                ["attempts"] = Integer("Calls sent, when retries or hedges sent more than one."),
                ["queuedMs"] = Integer("Time the call waited for a concurrency slot, when it waited."),
                ["cache"] = Enum("Served from a cache: a copy within its fresh period, or past it.", ["fresh", "stale"]),
                ["ageMs"] = Integer("Age of the cached copy."),
            },
        });
        schemas.TryAdd(Problem, new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "RFC 9457 problem details: the gateway refused the request itself.",
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["type"] = String("A URI naming the kind of problem."),
                ["title"] = String("A short summary."),
                ["status"] = Integer("The HTTP status."),
                ["detail"] = String("What was wrong with this request."),
                ["instance"] = String("The request."),
                ["traceId"] = String("The request's trace id."),
            },
        });
    }

    /// <summary>Adds the envelope of <paramref name="definition"/> under a component named after it; returns a reference to it.</summary>
    public static OpenApiSchemaReference AddEnvelope(OpenApiDocument document, AggregateDefinition definition)
    {
        var schemas = Schemas(document);
        var baseName = OpenApiText.ComponentName(definition.Name) + "Envelope";
        var name = baseName;
        for (var i = 2; schemas.ContainsKey(name); i++)
        {
            name = baseName + i;
        }

        var data = new Dictionary<string, IOpenApiSchema>();
        var sources = new Dictionary<string, IOpenApiSchema>();
        foreach (var source in definition.Sources)
        {
            // Any JSON: the source's body, copied byte for byte. No type (an object, an array, a string, a number, a
            // boolean or null), and an example that says so, where Swagger UI would show "string" for a typeless schema
            // (an empty object is not written: the writer leaves out empty collections).
#pragma warning disable CS0618 // The document is OpenAPI 3.0, which has one schema example: Examples is 3.1's and is not written.
            data[source.Name] = new OpenApiSchema
            {
                Description = $"{(source.Required ? "Required" : "Optional")} source `{source.Name}`: its JSON as it answered, any JSON value; absent when it failed.",
                Example = new System.Text.Json.Nodes.JsonObject { ["…"] = "any JSON value, as the source answered" },
            };
#pragma warning restore CS0618
            sources[source.Name] = new OpenApiSchemaReference(SourceMeta, document);
        }

        schemas[name] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = $"The answer of aggregate `{definition.Name}`.",
            Required = new HashSet<string> { "data", "errors", "meta" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["data"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Description = "Each source that succeeded, under its name.",
                    Properties = data,
                    AdditionalPropertiesAllowed = false,
                },
                ["errors"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    Description = "One entry per source that failed; empty when every source succeeded.",
                    Items = new OpenApiSchemaReference(SourceError, document),
                },
                ["meta"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "complete", "elapsedMs", "sources" },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["complete"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Description = "Whether every source succeeded." },
                        ["elapsedMs"] = Integer("Time the whole request took."),
                        ["sources"] = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object,
                            Description = "What became of each source, under its name.",
                            Properties = sources,
                            AdditionalPropertiesAllowed = false,
                        },
                    },
                },
            },
        };
        return new OpenApiSchemaReference(name, document);
    }

    private static IDictionary<string, IOpenApiSchema> Schemas(OpenApiDocument document)
    {
        document.Components ??= new OpenApiComponents();
        return document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
    }

    private static string[] Kinds() =>
        [.. System.Enum.GetValues<SourceOutcome>().Where(o => o != SourceOutcome.Ok).Select(o => o.ToName())];

    private static OpenApiSchema String(string description) => new() { Type = JsonSchemaType.String, Description = description };

    private static OpenApiSchema Integer(string description) => new() { Type = JsonSchemaType.Integer, Format = "int64", Description = description };

    private static OpenApiSchema Enum(string description, string[] values) => new()
    {
        Type = JsonSchemaType.String,
        Description = description,
        Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v))],
    };
}
