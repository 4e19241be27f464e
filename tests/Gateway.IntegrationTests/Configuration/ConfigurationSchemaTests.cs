using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.IntegrationTests.Deploy;
using Json.Schema;

namespace Gateway.IntegrationTests.Configuration;

/// <summary>
/// The shipped JSON Schema (<c>src/Gateway/gateway.schema.json</c>) is what the options types generate today, the root
/// <c>appsettings.json</c> names it, every configuration file the repository ships validates against it, and a
/// misspelt key does not (validated with JsonSchema.Net, an implementation of the specification).
/// </summary>
public sealed class ConfigurationSchemaTests
{
    private static readonly Lazy<JsonSchema> Shipped = new(() => JsonSchema.FromText(Repository.Read(ConfigurationSchema.ShippedPath)));

    public static TheoryData<string> ShippedConfigurations => new()
    {
        "appsettings.json",
        "deploy/compose/gateway.json",
        "deploy/k8s/gateway.json",
        "tests/Benchmarks/gateway.bench.json",
        "tests/Benchmarks/gateway.cache.bench.json",
        "tests/Benchmarks/gateway.production.bench.json",
    };

    [Fact]
    public void Schema_Shipped_IsWhatTheOptionsTypesGenerate()
    {
        var shipped = Repository.Read(ConfigurationSchema.ShippedPath).ReplaceLineEndings("\n");

        Assert.True(
            shipped == ConfigurationSchema.Serialize(),
            $"{ConfigurationSchema.ShippedPath} is out of date: dotnet run --project src/Gateway -- --schema > {ConfigurationSchema.ShippedPath}");
    }

    [Fact]
    public void AppSettings_NamesTheSchema()
    {
        var root = JsonNode.Parse(Repository.Read("appsettings.json"))!;

        Assert.Equal("./" + ConfigurationSchema.ShippedPath, (string?)root["$schema"]);
    }

    [Theory]
    [MemberData(nameof(ShippedConfigurations))]
    public void ShippedConfiguration_ValidatesAgainstTheSchema(string file)
    {
        // The benchmark's templates, as tests/Benchmarks/run.sh fills them in: a number for a quoted numeric
        // placeholder, an address for the others.
        var json = System.Text.RegularExpressions.Regex.Replace(Repository.Read(file), "\"__[A-Z_]*BYTES__\"", "65536");
        json = System.Text.RegularExpressions.Regex.Replace(json, "__[A-Z0-9_]+__", "http://127.0.0.1:1");

        var result = Evaluate(json);

        Assert.True(result.IsValid, $"{file}: {Describe(result)}");
    }

    [Theory]
    [InlineData("""{ "Gateway": { "Aggregates": { "a": { "Route": "/a", "Sources": { "s": { "Cluster": "c", "Path": "/s", "Requried": true } } } } } }""")]
    [InlineData("""{ "ReverseProxy": { "Clusters": { "c": { "LoadBalancingPolcy": "RoundRobin" } } } }""")]
    [InlineData("""{ "Gateway": { "Downstreams": { "c": { "PropagateHeadersMode": "Sometimes" } } } }""")]
    public void MisspeltKeyOrUnknownValue_FailsTheSchema(string json)
    {
        Assert.False(Evaluate(json).IsValid, json);
    }

    private static EvaluationResults Evaluate(string json) =>
        Shipped.Value.Evaluate(JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }).RootElement,
            new EvaluationOptions { OutputFormat = OutputFormat.List });

    private static string Describe(EvaluationResults result) =>
        string.Join("; ", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));
}
