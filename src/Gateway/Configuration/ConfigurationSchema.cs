using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Configuration;

/// <summary>
/// The JSON Schema of a gateway configuration file (<c>Gateway</c> and <c>ReverseProxy</c>), generated from the types
/// the sections bind to (<see cref="GatewayOptions"/>, YARP's <see cref="RouteConfig"/> and <see cref="ClusterConfig"/>)
/// with System.Text.Json's schema exporter, so that it cannot drift from what the gateway reads; shipped as
/// <c>src/Gateway/gateway.schema.json</c> (a test keeps it current) and named by the root <c>appsettings.json</c>'s
/// <c>$schema</c>, for editors' completion and squiggles. <c>--schema</c> prints it. It describes names and shapes;
/// values are the start-up checks' to judge (durations such as <c>2s</c>, ranges, references between keys).
/// </summary>
internal static class ConfigurationSchema
{
    public const string Flag = "--schema";

    /// <summary>Where the schema is shipped, from the repository's root.</summary>
    public const string ShippedPath = "src/Gateway/gateway.schema.json";

    /// <summary>The schema as shipped: indented, with the characters JSON need not escape left as they are.</summary>
    public static string Serialize() => Generate().ToJsonString(new JsonSerializerOptions
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    }) + "\n";

    public static JsonObject Generate()
    {
        var serializer = new JsonSerializerOptions
        {
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
            // An object of the gateway's or YARP's takes no key it does not know: editors flag a misspelt one.
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        };
        var exporter = new JsonSchemaExporterOptions { TreatNullObliviousAsNonNullable = true, TransformSchemaNode = Transform };
        JsonNode Of(Type type) => serializer.GetJsonSchemaAsNode(type, exporter);

        return new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["title"] = "Gateway configuration",
            ["description"] = "The gateway's sections of appsettings.json (or the file named by --config / GATEWAY_CONFIG). Generated from the options types: dotnet run --project src/Gateway -- --schema",
            ["type"] = "object",
            ["properties"] = new JsonObject
            {
                ["$schema"] = new JsonObject { ["type"] = "string" },
                ["Gateway"] = Of(typeof(GatewayOptions)),
                ["ReverseProxy"] = new JsonObject
                {
                    ["type"] = "object",
                    ["description"] = "YARP's configuration: the downstream clusters (for aggregates and routes alike) and the pass-through routes.",
                    ["additionalProperties"] = false,
                    ["properties"] = new JsonObject
                    {
                        ["Routes"] = new JsonObject { ["type"] = "object", ["additionalProperties"] = Of(typeof(RouteConfig)) },
                        ["Clusters"] = new JsonObject { ["type"] = "object", ["additionalProperties"] = Of(typeof(ClusterConfig)) },
                    },
                },
            },
        };
    }

    // What the configuration binder (and YARP's reader) read differently from System.Text.Json: enums by name,
    // durations and HTTP versions as text.
    private static JsonNode Transform(JsonSchemaExporterContext context, JsonNode schema)
    {
        var type = Nullable.GetUnderlyingType(context.TypeInfo.Type) ?? context.TypeInfo.Type;
        if (type == typeof(TimeSpan))
        {
            return new JsonObject { ["type"] = "string", ["description"] = "A duration: 500ms, 2s, 5m, 1h, or 00:00:02." };
        }

        if (type == typeof(Version))
        {
            // YARP reads "2" as HTTP/2; System.Text.Json's pattern would want "2.0".
            return new JsonObject { ["type"] = "string", ["description"] = "An HTTP version: 1.0, 1.1, 2 or 3." };
        }

        if (type.IsEnum)
        {
            return new JsonObject { ["type"] = "string", ["enum"] = new JsonArray([.. Enum.GetNames(type).Select(n => (JsonNode)n)]) };
        }

        return schema;
    }
}
