using Gateway.OpenApi;
using Gateway.Tests.Configuration;
using Microsoft.OpenApi;

namespace Gateway.Tests.OpenApi;

public sealed class AggregateDescriptionTests
{
    private const string Config = """
        { "ReverseProxy": { "Clusters": { "users": { "Destinations": { "a": { "Address": "http://users.internal.test/" } } } } },
          "Gateway": {
            "Downstreams": { "users": { "Timeout": "700ms" } },
            "CachedData": { "categories": { "Cluster": "users", "Path": "/categories", "RefreshInterval": "30s" } },
            "Aggregates": {
              "home": { "Route": "/home/{id}", "Timeout": "3s", "FailFast": false, "Sources": {
                "profile": { "Cluster": "users", "Path": "/users/{id}", "Required": true },
                "categories": { "CachedData": "categories", "Required": true },
                "prices": { "Cluster": "users", "Path": "/prices/{profile.region}", "Timeout": "250ms", "Cache": { "Ttl": "5m" } } } } } } }
        """;

    [Fact]
    public void For_CallDatasetAndCachedCall_SaysWhatEachSourceIsWithoutTheTopology()
    {
        var catalog = AggregationCatalogTests.Load(Config);
        catalog.ThrowIfInvalid();

        var description = AggregateDescription.For(catalog.Configured.Single());

        Assert.Contains("deadline is 3 s", description, StringComparison.Ordinal);
        Assert.Contains("Every source runs to its end", description, StringComparison.Ordinal);
        Assert.Contains("`profile`: **required**, timeout 700 ms\n", description, StringComparison.Ordinal);
        Assert.Contains("`categories`: **required**, from a dataset the gateway keeps in memory (no wait)\n", description, StringComparison.Ordinal);
        Assert.Contains("`prices`: optional, timeout 250 ms, answers cached for 5 min, after `profile` (reads its fields)\n", description, StringComparison.Ordinal);
        Assert.DoesNotContain("users.internal.test", description, StringComparison.Ordinal);
        Assert.DoesNotContain("/prices/", description, StringComparison.Ordinal);
        Assert.DoesNotContain("users", description, StringComparison.Ordinal); // the cluster id
    }

    [Fact]
    public void AddEnvelope_NamesThatSanitizeAlike_GetTheirOwnComponents()
    {
        var catalog = AggregationCatalogTests.Load(Config);
        catalog.ThrowIfInvalid();
        var home = catalog.Configured.Single();
        var document = new OpenApiDocument();

        var first = EnvelopeSchemas.AddEnvelope(document, home with { Name = "a b" });
        var second = EnvelopeSchemas.AddEnvelope(document, home with { Name = "a_b" });

        Assert.Equal("a_bEnvelope", first.Reference.Id);
        Assert.Equal("a_bEnvelope2", second.Reference.Id);
        Assert.Equal(2, document.Components!.Schemas!.Count);
    }
}
