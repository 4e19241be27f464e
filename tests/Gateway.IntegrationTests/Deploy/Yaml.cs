using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace Gateway.IntegrationTests.Deploy;

/// <summary>YAML documents (Kubernetes manifests, compose, collector configuration) read with YamlDotNet, as JSON nodes to navigate.</summary>
public static class Yaml
{
    public static IReadOnlyList<JsonObject> Documents(string relativePath)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(Repository.Read(relativePath)))
        {
            stream.Load(reader);
        }

        return stream.Documents.Select(d => ToJson(d.RootNode)).OfType<JsonObject>().ToList();
    }

    public static JsonObject Document(string relativePath) => Assert.Single(Documents(relativePath));

    public static string Text(this JsonNode? node, string what) =>
        node?.GetValue<string>() ?? throw new Xunit.Sdk.XunitException($"{what} is missing");

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Value: null or "null" or "~" } scalar when scalar.Style == YamlDotNet.Core.ScalarStyle.Plain => null,
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType}"),
    };
}
