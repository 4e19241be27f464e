using Gateway.Aggregation;
using Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class AggregationCatalogTests
{
    internal static AggregationCatalog Load(string json, TimeProvider? timeProvider = null)
    {
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();
        return new AggregationCatalog(configuration, timeProvider ?? TimeProvider.System);
    }

    private static IReadOnlyList<string> Errors(string json)
    {
        var catalog = Load(json);
        var ex = Assert.Throws<GatewayConfigurationException>(catalog.ThrowIfInvalid);
        return ex.Errors;
    }

    [Fact]
    public void Load_TimeoutNotATimeSpan_NamesTheKey()
    {
        var errors = Errors("""{ "Gateway": { "Aggregates": { "x": { "Route": "/x", "Timeout": "banana", "Sources": {} } } } }""");
        Assert.Contains(errors, e => e.Contains("Gateway:Aggregates:x:Timeout", StringComparison.Ordinal));
    }
}
