using Gateway.Aggregation;
using Gateway.Configuration;
using Gateway.Tests.Configuration;

namespace Gateway.Tests.Caching;

public sealed class ResponseCacheConfigurationTests
{
    private const string Cluster = """ "ReverseProxy": { "Clusters": { "catalog": { "Destinations": { "a": { "Address": "http://catalog.test/" } } } } } """;

    private static IReadOnlyList<string> Errors(string gateway)
    {
        var catalog = AggregationCatalogTests.Load($$"""{ {{Cluster}}, "Gateway": {{gateway}} }""");
        return Assert.Throws<GatewayConfigurationException>(catalog.ThrowIfInvalid).Errors;
    }

    [Fact]
    public void Load_VaryByHeaderTheClusterDoesNotPropagate_RefusedNamingTheKey()
    {
        var errors = Errors("""
            { "PropagateHeaders": [ "X-Tenant" ],
              "Aggregates": { "a": { "Route": "/a", "Sources": {
                "s": { "Cluster": "catalog", "Path": "/s", "Cache": { "Ttl": "30s", "VaryBy": [ "X-Tenant", "X-Region" ] } } } } } }
            """);
        var error = Assert.Single(errors);
        Assert.StartsWith("Gateway:Aggregates:a:Sources:s:Cache:VaryBy:1: 'X-Region' is not propagated to cluster 'catalog'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_CacheWithoutTtlCacheAuthorizedAloneOrCacheOnCachedData_RefusedNamingEachKey()
    {
        var errors = Errors("""
            { "Cache": { "MaxBytes": 0 },
              "CachedData": { "tiers": { "Cluster": "catalog", "Path": "/tiers", "RefreshInterval": "1m" } },
              "Aggregates": { "a": { "Route": "/a", "Sources": {
                "noTtl": { "Cluster": "catalog", "Path": "/s", "Cache": { "StaleIfError": "1m" } },
                "alone": { "Cluster": "catalog", "Path": "/s", "CacheAuthorized": true },
                "data": { "CachedData": "tiers", "Cache": { "Ttl": "1s" } },
                "bare": { "Cluster": "catalog", "Path": "/s", "Cache": { "Ttl": "30" } } } } } }
            """);
        Assert.Contains(errors, e => e.StartsWith("Gateway:Cache:MaxBytes: must be between 1 and ", StringComparison.Ordinal) && e.EndsWith("(was 0)", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Gateway:Aggregates:a:Sources:noTtl:Cache:Ttl: is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Gateway:Aggregates:a:Sources:alone:CacheAuthorized: has no effect without Cache", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Gateway:Aggregates:a:Sources:data:Cache: a CachedData source", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Gateway:Aggregates:a:Sources:bare:Cache:Ttl: '30' is a bare number", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_CachedSource_CompiledAsCachedCallWithFusionCacheOptionsMapped()
    {
        var catalog = AggregationCatalogTests.Load($$"""
            { {{Cluster}}, "Gateway": { "PropagateHeaders": [ "X-Tenant" ], "Aggregates": { "a": { "Route": "/a", "Sources": {
                "s": { "Cluster": "catalog", "Path": "/s", "CacheAuthorized": true,
                       "Cache": { "Ttl": "30s", "StaleWhileRevalidate": "10s", "StaleIfError": "1m", "VaryBy": [ "x-tenant" ] } },
                "plain": { "Cluster": "catalog", "Path": "/p" } } } } } }
            """);
        catalog.ThrowIfInvalid();

        Assert.Equal(CacheOptions.DefaultMaxBytes, catalog.Options.Cache.MaxBytes);
        var sources = catalog.Configured.Single().Sources;
        Assert.Equal(SourceKind.Call, sources.Single(s => s.Name == "plain").Kind);
        var cached = sources.Single(s => s.Name == "s");
        Assert.Equal(SourceKind.CachedCall, cached.Kind);
        var policy = cached.Cache!;
        Assert.True(policy.CacheAuthorized);
        Assert.Equal(["x-tenant"], policy.VaryBy);
        var options = policy.EntryOptions;
        Assert.Equal(TimeSpan.FromSeconds(40), options.Duration);
        Assert.Equal(0.75f, options.EagerRefreshThreshold!.Value, 3);
        Assert.True(options.IsFailSafeEnabled);
        Assert.Equal(TimeSpan.FromSeconds(90), options.FailSafeMaxDuration);
        Assert.Equal(TimeSpan.FromSeconds(1), options.FailSafeThrottleDuration);
    }

    [Fact]
    public void Load_StaleIfErrorNotBeyondStaleWhileRevalidate_NoFailSafeAndNoEagerRefreshWithoutWindow()
    {
        var catalog = AggregationCatalogTests.Load($$"""
            { {{Cluster}}, "Gateway": { "Aggregates": { "a": { "Route": "/a", "Sources": {
                "s": { "Cluster": "catalog", "Path": "/s", "Cache": { "Ttl": "30s" } } } } } } }
            """);
        catalog.ThrowIfInvalid();

        var options = catalog.Configured.Single().Sources.Single().Cache!.EntryOptions;
        Assert.Equal(TimeSpan.FromSeconds(30), options.Duration);
        Assert.Null(options.EagerRefreshThreshold);
        Assert.False(options.IsFailSafeEnabled);
    }
}
