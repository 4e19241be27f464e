using Gateway.Aggregation;
using Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class AggregationCatalogTests
{
    internal static AggregationCatalog Load(string json, TimeProvider? timeProvider = null, IEnumerable<IReservedEndpoints>? reserved = null)
    {
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();
        return new AggregationCatalog(configuration, timeProvider ?? TimeProvider.System, reserved);
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

    [Theory]
    [InlineData("1.5")]
    [InlineData("-0.1")]
    public void Load_SamplingRatioOutsideZeroToOne_NamesTheKey(string ratio)
    {
        var errors = Errors($$"""{ "Gateway": { "Telemetry": { "SamplingRatio": {{ratio}} } } }""");
        Assert.Contains(errors, e => e.StartsWith("Gateway:Telemetry:SamplingRatio: must be between 0 and 1", StringComparison.Ordinal) && e.EndsWith($"(was {ratio})", StringComparison.Ordinal));
    }

    private const string Cluster = """ "ReverseProxy": { "Clusters": { "users": { "Destinations": { "a": { "Address": "http://users.test/" } } } } } """;

    [Fact]
    public void Load_OneBareNumberTimeout_ReportsExactlyThatKey()
    {
        var errors = Errors($$"""
            { {{Cluster}},
              "Gateway": { "Aggregates": {
                "dashboard": { "Route": "/d/{id}", "Timeout": "2", "Sources": { "profile": { "Cluster": "users", "Path": "/users/{id}", "Timeout": "500ms" } } },
                "other": { "Route": "/o/{id}", "Timeout": "00:00:01", "Sources": { "profile": { "Cluster": "users", "Path": "/users/{id}", "Timeout": "300ms" } } } } } }
            """);

        Assert.Equal(["Gateway:Aggregates:dashboard:Timeout: '2' is a bare number; write a duration such as \"2s\", \"500ms\" or \"00:00:02\""], errors);
    }

    [Fact]
    public void Load_GoStyleAndDotNetDurations_AreAccepted()
    {
        var catalog = Load($$"""
            { {{Cluster}},
              "Gateway": { "Downstreams": { "users": { "Timeout": "1.5s" } },
                           "Aggregates": { "a": { "Route": "/a/{id}", "Timeout": "1m30s",
                                                  "Sources": { "p": { "Cluster": "users", "Path": "/users/{id}", "Timeout": "00:00:00.300" } } } } } }
            """);

        catalog.ThrowIfInvalid();
        Assert.Equal(TimeSpan.FromMilliseconds(1500), catalog.Options.Downstreams["users"].Timeout);
        Assert.Equal(TimeSpan.FromSeconds(90), catalog.Options.Aggregates["a"].Timeout);
        Assert.Equal(TimeSpan.FromMilliseconds(300), catalog.Options.Aggregates["a"].Sources["p"].Timeout);
    }

    [Fact]
    public void Load_OneBadSourceTimeout_ReportsExactlyThatKey()
    {
        // The binder used to drop the source, and the aggregate was then refused for having none.
        var errors = Errors($$"""
            { {{Cluster}},
              "Gateway": { "Aggregates": {
                "dashboard": { "Route": "/d/{id}", "Sources": { "profile": { "Cluster": "users", "Path": "/users/{id}", "Timeout": "soon" } } },
                "other": { "Route": "/o/{id}", "Sources": { "profile": { "Cluster": "users", "Path": "/users/{id}" } } } } } }
            """);

        Assert.Equal(["Gateway:Aggregates:dashboard:Sources:profile:Timeout: 'soon' is not a duration; write one such as \"2s\", \"500ms\" or \"00:00:02\""], errors);
    }

    [Theory]
    [InlineData("Routes:r:Timeout")]
    [InlineData("Clusters:users:HttpRequest:ActivityTimeout")]
    [InlineData("Clusters:users:HealthCheck:Active:Interval")]
    [InlineData("Clusters:users:HealthCheck:Active:Timeout")]
    [InlineData("Clusters:users:HealthCheck:Passive:ReactivationPeriod")]
    [InlineData("Clusters:users:SessionAffinity:Cookie:Expiration")]
    [InlineData("Clusters:users:SessionAffinity:Cookie:MaxAge")]
    public void Load_ProxyTimeSpanIsABareNumber_NamesTheKey(string key)
    {
        var errors = Assert.Throws<GatewayConfigurationException>(WithProxyValue(key, "2").ThrowIfInvalid).Errors;

        Assert.Equal([$"ReverseProxy:{key}: '2' is a bare number, which YARP reads as days; write a duration such as \"2s\", \"500ms\" or \"00:00:02\""], errors);
    }

    [Fact]
    public void Load_ProxyTimeSpanNotADuration_NamesTheKey()
    {
        var errors = Assert.Throws<GatewayConfigurationException>(WithProxyValue("Routes:r:Timeout", "soon").ThrowIfInvalid).Errors;

        Assert.Equal(["ReverseProxy:Routes:r:Timeout: 'soon' is not a duration; write a duration such as \"2s\", \"500ms\" or \"00:00:02\""], errors);
    }

    [Fact]
    public void ProxyDurationOverrides_GoStyleYarpKeys_AreRewrittenForYarp()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(
        [
            new("ReverseProxy:Routes:r:Timeout", "1m30s"),
            new("ReverseProxy:Clusters:c:HttpRequest:ActivityTimeout", "00:00:05"),
            new("ReverseProxy:Clusters:c:HealthCheck:Active:Interval", "500ms"),
        ]).Build();

        var overrides = ConfigurationShape.ProxyDurationOverrides(configuration).ToDictionary();

        Assert.Equal(2, overrides.Count);
        Assert.Equal("00:01:30", overrides["ReverseProxy:Routes:r:Timeout"]);
        Assert.Equal("00:00:00.5000000", overrides["ReverseProxy:Clusters:c:HealthCheck:Active:Interval"]);
    }

    [Fact]
    public void Load_ProxyTimeSpanInHoursMinutesSeconds_IsAccepted()
    {
        WithProxyValue("Clusters:users:HealthCheck:Active:Interval", "00:00:10").ThrowIfInvalid();
    }

    [Theory]
    [InlineData("ftp://admin:hunter2@users.test/")]
    [InlineData("http://admin:hunter2@users.test/?x=1")]
    [InlineData("http://admin:hunter2@users test/")]
    public void Load_InvalidAddressWithCredentials_HidesThem(string address)
    {
        var errors = Errors($$"""{ "ReverseProxy": { "Clusters": { "users": { "Destinations": { "a": { "Address": "{{address}}" } } } } } }""");

        var error = Assert.Single(errors);
        Assert.StartsWith("ReverseProxy:Clusters:users:Destinations:a:Address: '", error, StringComparison.Ordinal);
        Assert.Contains("://***@users", error, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://admin:hunter2@users.test/")]
    [InlineData("https://hunter2@users.test:8443/api/")]
    public void Load_ValidAddressWithCredentials_IsRefusedWithoutShowingThem(string address)
    {
        var errors = Errors($$"""{ "ReverseProxy": { "Clusters": { "users": { "Destinations": { "a": { "Address": "{{address}}" } } } } } }""");

        var error = Assert.Single(errors);
        Assert.StartsWith("ReverseProxy:Clusters:users:Destinations:a:Address: '", error, StringComparison.Ordinal);
        Assert.Contains("holds credentials", error, StringComparison.Ordinal);
        Assert.Contains("://***@users.test", error, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
    }

    private static AggregationCatalog WithProxyValue(string key, string value)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes($$"""{ {{Cluster}} }""")))
            .AddInMemoryCollection([new($"ReverseProxy:{key}", value)])
            .Build();
        return new AggregationCatalog(configuration, TimeProvider.System);
    }

    [Fact]
    public void Load_InvalidMaxConcurrency_NamesThatKeyOnlyNotUnknownClusterForItsAggregatesAndDatasets()
    {
        var errors = Errors($$"""
            { {{Cluster}},
              "Gateway": { "Downstreams": { "users": { "MaxConcurrency": 0 } },
                           "CachedData": { "countries": { "Cluster": "users", "Path": "/countries", "RefreshInterval": "1m" } },
                           "Aggregates": {
                             "a": { "Route": "/a/{id}", "Sources": { "p": { "Cluster": "users", "Path": "/users/{id}" } } },
                             "b": { "Route": "/b/{id}", "Sources": { "p": { "Cluster": "users", "Path": "/users/{id}" } } } } } }
            """);

        Assert.Equal(["Gateway:Downstreams:users:MaxConcurrency: must be at least 1 (was 0)"], errors);
    }

    [Fact]
    public void Load_SourceOnAnUndeclaredCluster_StillSaysUnknownCluster()
    {
        var errors = Errors($$"""
            { {{Cluster}},
              "Gateway": { "Downstreams": { "users": { "MaxConcurrency": 0 } },
                           "Aggregates": { "a": { "Route": "/a/{id}", "Sources": { "p": { "Cluster": "userz", "Path": "/users/{id}" } } } } } }
            """);

        Assert.Equal(2, errors.Count);
        Assert.Contains("Gateway:Aggregates:a:Sources:p:Cluster: unknown cluster 'userz' (YARP declares none such: add it under ReverseProxy:Clusters, or to the clusters your app loads into YARP)", errors);
    }

    [Theory]
    [InlineData(""" "CircuitBreaker": {} """)]
    [InlineData(""" "CircuitBreaker": { } , "Retry": {}, "Hedging": {} """)]
    public void Load_EmptyCircuitBreakerSection_IsABreakerWithTheDefaults(string strategies)
    {
        var catalog = Load($$"""
            { {{Cluster}},
              "Gateway": { "Downstreams": { "users": { "Resilience": { {{strategies}} } } },
                           "Aggregates": { "a": { "Route": "/a/{id}", "Sources": { "p": { "Cluster": "users", "Path": "/users/{id}" } } } } } }
            """);

        catalog.ThrowIfInvalid();
        Assert.Equal(new CircuitBreakerOptions(), catalog.Options.Downstreams["users"].Resilience!.CircuitBreaker);
        Assert.True(catalog.Downstreams.TryGet("users", out var users));
        Assert.NotNull(users.Resilience.Breaker);
        Assert.Equal(new CircuitBreakerOptions().BreakDuration, users.Resilience.BreakDuration);
    }

    [Fact]
    public void Load_EmptyRetryAndHedgingSections_AreThoseStrategiesWithTheirDefaults()
    {
        var catalog = Load($$"""
            { {{Cluster}},
              "Gateway": { "Downstreams": { "users": { "Resilience": { "Retry": {}, "Hedging": {} } } },
                           "Aggregates": { "a": { "Route": "/a/{id}", "Sources": { "p": { "Cluster": "users", "Path": "/users/{id}" } } } } } }
            """);

        catalog.ThrowIfInvalid();
        var resilience = catalog.Options.Downstreams["users"].Resilience!;
        Assert.Equal(new RetryOptions(), resilience.Retry);
        Assert.Equal(new HedgingOptions(), resilience.Hedging);
        Assert.Null(resilience.CircuitBreaker);
        Assert.True(catalog.Downstreams.TryGet("users", out var users));
        Assert.NotNull(users.Resilience.RetryBudget);
        Assert.Null(users.Resilience.Breaker);
    }

    [Fact]
    public void Load_ResilienceOutsidePollysRanges_EveryKeyNamedOnce_WithPollysOwnRuleAndTheGatewaysCaps()
    {
        var errors = Errors($$"""
            { {{Cluster}},
              "Gateway": { "Downstreams": { "users": { "Resilience": {
                "AttemptTimeout": "5ms",
                "Retry": { "MaxRetryAttempts": 0, "Delay": "2m" },
                "CircuitBreaker": { "FailureRatio": 1.5, "MinimumThroughput": 1, "SamplingDuration": "100ms", "BreakDuration": "2s" },
                "Hedging": { "Delay": "100ms", "MaxHedgedAttempts": 11 } } } } } }
            """);

        const string Key = "Gateway:Downstreams:users:Resilience:";
        // Polly's own ranges (its data annotations): the rule Polly would have thrown on when the pipeline was built.
        foreach (var pollys in new[] { "AttemptTimeout", "Retry:MaxRetryAttempts", "CircuitBreaker:FailureRatio", "CircuitBreaker:MinimumThroughput", "CircuitBreaker:SamplingDuration", "Hedging:MaxHedgedAttempts" })
        {
            Assert.Single(errors, e => e.StartsWith(Key + pollys + ": The field ", StringComparison.Ordinal));
        }

        // The gateway's cap, where Polly allows more.
        Assert.Contains(Key + "Retry:Delay: must be at most 1 minute (was 00:02:00)", errors);
        Assert.DoesNotContain(errors, e => e.StartsWith(Key + "CircuitBreaker:BreakDuration", StringComparison.Ordinal));
        Assert.Equal(7, errors.Count(e => e.StartsWith(Key, StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("Gatway", "Gateway")]
    [InlineData("gateways", "Gateway")]
    [InlineData("ReverseProxi", "ReverseProxy")]
    [InlineData("Kestral", "Kestrel")]
    public void Load_TopLevelSectionMisspelt_NamedWithWhatWasMeant(string written, string meant)
    {
        var errors = Errors($$"""{ {{Cluster}}, "{{written}}": { "Aggregates": {} } }""");

        Assert.Contains($"{written}: unknown section '{written}'; did you mean '{meant}'?", errors);
    }

    [Fact]
    public void Load_OtherTopLevelSections_LeftAlone()
    {
        var catalog = Load($$"""{ {{Cluster}}, "Logging": { "LogLevel": { "Default": "Warning" } }, "AllowedHosts": "*", "Demo": { "Enabled": true }, "GATEWAY": {} }""");

        catalog.ThrowIfInvalid();
    }
}
