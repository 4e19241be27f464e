using Gateway.Configuration;
using Gateway.Tests.Configuration;

namespace Gateway.Tests.Caching;

public sealed class CachedDataConfigurationTests
{
    private const string Cluster = """ "ReverseProxy": { "Clusters": { "catalog": { "Destinations": { "a": { "Address": "http://catalog.test/" } } } } } """;

    private static IReadOnlyList<string> Errors(string gateway)
    {
        var catalog = AggregationCatalogTests.Load($$"""{ {{Cluster}}, "Gateway": {{gateway}} }""", reserved: [new Gateway.Health.HealthExtensions.Probes()]);
        return Assert.Throws<GatewayConfigurationException>(catalog.ThrowIfInvalid).Errors;
    }

    [Fact]
    public void Load_DatasetPathWithPlaceholder_RefusedNamingTheKey()
    {
        var errors = Errors("""{ "CachedData": { "tiers": { "Cluster": "catalog", "Path": "/tiers/{region}", "RefreshInterval": "1m" } } }""");
        Assert.Contains(errors, e => e.StartsWith("Gateway:CachedData:tiers:Path: ", StringComparison.Ordinal) && e.Contains("no placeholders", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_DatasetWithoutIntervalOrWithJitterTooLarge_RefusedNamingEachKey()
    {
        var errors = Errors("""
            { "CachedData": {
                "a": { "Cluster": "catalog", "Path": "/a" },
                "b": { "Cluster": "nope", "Path": "/b", "RefreshInterval": "1m", "Jitter": 0.9, "MaxStaleness": "-1s" } } }
            """);
        Assert.Contains(errors, e => e.StartsWith("Gateway:CachedData:a:RefreshInterval: is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Gateway:CachedData:b:Cluster: unknown cluster 'nope'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Gateway:CachedData:b:Jitter:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Gateway:CachedData:b:MaxStaleness:", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_CachedDataSourceWithClusterPathOrTimeout_RefusedNamingEachKey()
    {
        var errors = Errors("""
            { "CachedData": { "tiers": { "Cluster": "catalog", "Path": "/tiers", "RefreshInterval": "1m" } },
              "Aggregates": { "a": { "Route": "/a", "Sources": {
                "t": { "CachedData": "tiers", "Cluster": "catalog", "Path": "/tiers", "Timeout": "1s" } } } } }
            """);
        Assert.Contains(errors, e => e.StartsWith("Gateway:Aggregates:a:Sources:t:Cluster: a CachedData source takes no", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Gateway:Aggregates:a:Sources:t:Path: ", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Gateway:Aggregates:a:Sources:t:Timeout: ", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_CachedDataSourceNamesUnknownDataset_RefusedNamingTheKey()
    {
        var errors = Errors("""{ "Aggregates": { "a": { "Route": "/a", "Sources": { "t": { "CachedData": "tires" } } } } }""");
        Assert.Equal(["Gateway:Aggregates:a:Sources:t:CachedData: unknown dataset 'tires' (declare it under Gateway:CachedData)"], errors);
    }

    [Fact]
    public void Load_MisspeltDatasetSetting_RefusedNamingTheKey()
    {
        var errors = Errors("""{ "CachedData": { "tiers": { "Cluster": "catalog", "Path": "/tiers", "RefreshInterval": "1m", "Ttl": "1m" } } }""");
        Assert.Contains(errors, e => e.StartsWith("Gateway:CachedData:tiers:Ttl: unknown setting", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_ManagementEnabledWithoutApiKey_RefusedNamingTheKey()
    {
        var errors = Errors("""{ "Management": { "Enabled": true }, "Refresh": { "Workers": 0 } }""");
        Assert.Contains(errors, e => e.StartsWith("Gateway:Management:ApiKey: is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Gateway:Refresh:Workers: must be between 1 and ", StringComparison.Ordinal) && e.EndsWith("(was 0)", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_AggregateOnTheReadinessPath_RefusedAsAClash()
    {
        var errors = Errors("""
            { "CachedData": { "tiers": { "Cluster": "catalog", "Path": "/tiers", "RefreshInterval": "1m" } },
              "Aggregates": { "a": { "Route": "/health/ready", "Sources": { "t": { "CachedData": "tiers" } } } } }
            """);
        Assert.Contains(errors, e => e.StartsWith("Gateway:Aggregates:a: '/health/ready' (GET) is already served by the readiness check", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_Defaults_JitterTenthTimeoutTwoSecondsMaxStalenessTenIntervals()
    {
        var catalog = AggregationCatalogTests.Load($$"""{ {{Cluster}}, "Gateway": { "CachedData": { "tiers": { "Cluster": "catalog", "Path": "/tiers?all=true", "RefreshInterval": "30s" } } } }""");
        catalog.ThrowIfInvalid();
        Assert.True(catalog.Datasets.TryGet("TIERS", out var tiers));
        Assert.Equal(0.1, tiers.Definition.Jitter);
        Assert.Equal(TimeSpan.FromSeconds(2), tiers.Definition.Timeout);
        Assert.Equal(TimeSpan.FromMinutes(5), tiers.Definition.MaxStaleness);
        Assert.Equal(TimeSpan.FromSeconds(35), tiers.Definition.FreshFor);
        Assert.False(tiers.Definition.Required);
        Assert.Equal(4, catalog.Options.Refresh.Workers);
    }

    [Theory]
    [InlineData("\"   \"", "is empty")]
    [InlineData("\"password=secret\"", "names no Redis endpoint")]
    [InlineData("\"127.0.0.1:6379,nosuchoption=1\"", "is not a StackExchange.Redis connection string")]
    public void Load_RedisConnectionStringUnusable_RefusedNamingTheKeyNotTheValue(string value, string problem)
    {
        // The Redis package's check, which its AddRedisSharing() adds to the engine's.
        var errors = new List<string>();
        new Gateway.Caching.Redis.RedisConfigurationCheck().Check(new GatewayOptions { Cache = new CacheOptions { Redis = value.Trim('"') } }, errors);
        var error = Assert.Single(errors);
        Assert.StartsWith("Gateway:Cache:Redis: " + problem, error, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_CacheDefaults_NoRedisAndSixtyFourMebibytes_SharingTimesFollowTheInterval()
    {
        var catalog = AggregationCatalogTests.Load($$"""{ {{Cluster}}, "Gateway": { "CachedData": { "tiers": { "Cluster": "catalog", "Path": "/tiers", "RefreshInterval": "30s" } } } }""");
        catalog.ThrowIfInvalid();
        Assert.Null(catalog.Options.Cache.Redis);
        Assert.Equal(64L * 1024 * 1024, catalog.Options.Cache.MaxBytes);
        Assert.True(catalog.Datasets.TryGet("tiers", out var tiers));
        Assert.Equal(TimeSpan.FromSeconds(26.9), tiers.Definition.DueAge);
        Assert.Equal(TimeSpan.FromSeconds(1), tiers.Definition.FollowDelay);
        Assert.Equal(TimeSpan.FromSeconds(36), tiers.Definition.LeaseFor);
    }

    [Fact]
    public void Load_UnknownCacheSetting_RefusedNamingTheKey()
    {
        var errors = Errors("""{ "Cache": { "Redis": "127.0.0.1:6379", "Redsi": "x" } }""");
        Assert.Contains(errors, e => e.StartsWith("Gateway:Cache:Redsi: unknown setting", StringComparison.Ordinal));
    }
}
