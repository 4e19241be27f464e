using Gateway.Aggregation;
using Gateway.Configuration;
using Gateway.Tests.Configuration;

namespace Gateway.Tests.Aggregation;

public sealed class AggregateCompilerTests
{
    private const string Clusters = """
        "ReverseProxy": { "Clusters": { "users": { "Destinations": { "a": { "Address": "http://users.test/" } } } } }
        """;

    private static IReadOnlyList<string> Errors(string gateway)
    {
        var catalog = AggregationCatalogTests.Load($$"""{ {{Clusters}}, "Gateway": {{gateway}} }""");
        return Assert.Throws<GatewayConfigurationException>(catalog.ThrowIfInvalid).Errors;
    }

    private static AggregateDefinition Compile(string gateway)
    {
        var catalog = AggregationCatalogTests.Load($$"""{ {{Clusters}}, "Gateway": {{gateway}} }""");
        catalog.ThrowIfInvalid();
        return catalog.Configured.Single();
    }

    [Theory]
    [InlineData("""{ "a": { "Cluster": "nope", "Path": "/a" } }""", "Gateway:Aggregates:x:Sources:a:Cluster", "unknown cluster 'nope'")]
    [InlineData("""{ "a": { "Cluster": "users" } }""", "Gateway:Aggregates:x:Sources:a:Path", "is required")]
    [InlineData("""{ "a": { "Cluster": "users", "Path": "/a/{b.id}" } }""", "Gateway:Aggregates:x:Sources:a:Path", "unknown source 'b'")]
    [InlineData("""{ "a": { "Cluster": "users", "Path": "/a/{b.id}" }, "b": { "Cluster": "users", "Path": "/b/{a.id}" } }""", "Gateway:Aggregates:x:Sources", "cycle among sources a, b")]
    [InlineData("""{ "a": { "Cluster": "users", "Path": "/a/{a.id}" } }""", "Gateway:Aggregates:x:Sources", "cycle")]
    [InlineData("""{ "a": { "Cluster": "users", "Path": "/a/{id?}" } }""", "Gateway:Aggregates:x:Sources:a:Path", "only allowed in query values")]
    [InlineData("""{ "a": { "Cluster": "users", "Path": "/a", "Timeout": "00:00:09" } }""", "Gateway:Aggregates:x:Sources:a:Timeout", "not above the aggregate's timeout")]
    [InlineData("""{ "a": { "Cluster": "users", "Path": "/a", "Requried": true } }""", "Gateway:Aggregates:x:Sources:a:Requried", "unknown setting")]
    [InlineData("""{ "a": { "Cluster": "users", "Path": "/a", "Timeout": "soon" } }""", "Gateway:Aggregates:x:Sources:a:Timeout", "'soon' is not a duration")]
    [InlineData("""{ "a.b": { "Cluster": "users", "Path": "/a" } }""", "Gateway:Aggregates:x:Sources:a.b", "must not contain '.'")]
    public void Compile_BadSource_NamesTheKey(string sources, string key, string message)
    {
        var errors = Errors($$"""{ "Aggregates": { "x": { "Route": "/x", "Sources": {{sources}} } } }""");
        Assert.Contains(errors, e => e.StartsWith(key + ":", StringComparison.Ordinal) && e.Contains(message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{ "Aggregates": { "x": { "Sources": { "a": { "Cluster": "users", "Path": "/a" } } } } }""", "Gateway:Aggregates:x:Route")]
    [InlineData("""{ "Aggregates": { "x": { "Route": "/x/{", "Sources": { "a": { "Cluster": "users", "Path": "/a" } } } } }""", "Gateway:Aggregates:x:Route")]
    [InlineData("""{ "Aggregates": { "x": { "Route": "/x", "MaxParallel": 0, "Sources": { "a": { "Cluster": "users", "Path": "/a" } } } } }""", "Gateway:Aggregates:x:MaxParallel")]
    [InlineData("""{ "Aggregates": { "x": { "Route": "/x", "Sources": {} } } }""", "Gateway:Aggregates:x:Sources")]
    [InlineData("""{ "Downstreams": { "orders": { "MaxConcurrency": 5 } } }""", "Gateway:Downstreams:orders")]
    [InlineData("""{ "Downstreams": { "users": { "MaxConcurrency": 0 } } }""", "Gateway:Downstreams:users:MaxConcurrency")]
    [InlineData("""{ "Downstreams": { "users": { "MaxResponseBytes": 0 } } }""", "Gateway:Downstreams:users:MaxResponseBytes")]
    [InlineData("""{ "PropagateHeaders": [ "X-Tenant", "Connection" ] }""", "Gateway:PropagateHeaders:1")]
    [InlineData("""{ "PropagateHeaders": [ "Transfer-Encoding" ] }""", "Gateway:PropagateHeaders:0")]
    [InlineData("""{ "PropagateHeaders": [ "Accept" ] }""", "Gateway:PropagateHeaders:0")]
    [InlineData("""{ "PropagateHeaders": [ "X-Tenant", "Content-Type" ] }""", "Gateway:PropagateHeaders:1")]
    [InlineData("""{ "PropagateHeaders": [ "X-Tenant", "x-request-id" ] }""", "Gateway:PropagateHeaders:1")]
    public void Compile_BadSetting_NamesTheKey(string gateway, string key)
    {
        Assert.Contains(Errors(gateway), e => e.StartsWith(key + ":", StringComparison.Ordinal));
    }

    [Fact]
    public void Compile_BadDestinationAddress_NamesTheKey()
    {
        var catalog = AggregationCatalogTests.Load("""{ "ReverseProxy": { "Clusters": { "users": { "Destinations": { "a": { "Address": "users.internal" } } } } } }""");
        var errors = Assert.Throws<GatewayConfigurationException>(catalog.ThrowIfInvalid).Errors;
        Assert.Contains(errors, e => e.StartsWith("ReverseProxy:Clusters:users:Destinations:a:Address:", StringComparison.Ordinal));
    }

    [Fact]
    public void Compile_Defaults_FollowSourceThenDownstreamThenTwoSecondsCappedByDeadline()
    {
        var definition = Compile("""
            { "Downstreams": { "users": { "Timeout": "00:00:00.800" } },
              "Aggregates": { "x": { "Route": "/x/{id}", "Timeout": "00:00:01.500", "Sources": {
                "own": { "Cluster": "users", "Path": "/a", "Timeout": "00:00:00.300" },
                "downstream": { "Cluster": "users", "Path": "/b" } } } } }
            """);
        Assert.Equal(TimeSpan.FromMilliseconds(300), definition.Sources.Single(s => s.Name == "own").Timeout);
        Assert.Equal(TimeSpan.FromMilliseconds(800), definition.Sources.Single(s => s.Name == "downstream").Timeout);
        Assert.Equal("GET", definition.Method);
        Assert.Equal(AggregateDefinition.DefaultMaxParallel, definition.MaxParallel);

        var capped = Compile("""{ "Aggregates": { "x": { "Route": "/x", "Timeout": "00:00:01", "Sources": { "a": { "Cluster": "users", "Path": "/a" } } } } }""");
        Assert.Equal(TimeSpan.FromSeconds(1), capped.Sources[0].Timeout);
        var defaults = Compile("""{ "Aggregates": { "x": { "Route": "/x", "Sources": { "a": { "Cluster": "users", "Path": "/a" } } } } }""");
        Assert.Equal(TimeSpan.FromSeconds(2), defaults.Sources[0].Timeout);
        Assert.Equal(TimeSpan.FromSeconds(5), defaults.Timeout);
    }

    [Fact]
    public void Compile_Placeholders_ClassifyClientValuesAndDependencies()
    {
        var definition = Compile("""
            { "Aggregates": { "x": { "Route": "/x/{userId}", "Sources": {
                "profile": { "Cluster": "users", "Path": "/users/{userId}" },
                "orders": { "Cluster": "users", "Path": "/orders?user={userId}&limit={limit?}" },
                "customer": { "Cluster": "users", "Path": "/customers/{profile.customerId}" } } } } }
            """);
        Assert.Equal(["userId", "limit"], definition.ClientValues);
        Assert.Equal([true, false], definition.ClientValueRequired);
        Assert.Equal([true, false], definition.ClientValueInPath);
        var customer = definition.Sources.Single(s => s.Name == "customer");
        var profile = definition.Sources.Single(s => s.Name == "profile");
        Assert.Equal([profile.Index], customer.Inputs);
        Assert.Equal([customer.Index], profile.Dependents);
    }
}
