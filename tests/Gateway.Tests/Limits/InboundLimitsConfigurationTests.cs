using System.Net;
using Gateway.Configuration;
using Gateway.Tests.Configuration;

namespace Gateway.Tests.Limits;

/// <summary>The inbound limits' keys: parsed into the model, and every bad value refused at start naming its key.</summary>
public sealed class InboundLimitsConfigurationTests
{
    private const string Cluster = """ "ReverseProxy": { "Clusters": { "users": { "Destinations": { "a": { "Address": "http://users.test/" } } } } } """;

    private const string Aggregate = """ "Aggregates": { "agg": { "Route": "/agg/{id}", "Sources": { "p": { "Cluster": "users", "Path": "/u/{id}" } } } } """;

    private static IReadOnlyList<string> Errors(string gatewayKeys)
    {
        var catalog = AggregationCatalogTests.Load($$"""{ {{Cluster}}, "Gateway": { {{gatewayKeys}}, {{Aggregate}} } }""");
        return Assert.Throws<GatewayConfigurationException>(catalog.ThrowIfInvalid).Errors;
    }

    [Fact]
    public void Load_AllKeysSet_AreReadIntoTheModel()
    {
        var catalog = AggregationCatalogTests.Load($$"""
            { {{Cluster}}, "Gateway": {
                "TrustedProxies": [ "10.1.2.3", "192.168.0.0/16", "2001:db8::/32" ],
                "RateLimiting": { "PerClient": { "PermitLimit": 100, "Window": "1s" }, "MaxConcurrentRequests": 512 },
                "Cors": { "AllowedOrigins": [ "https://app.example.test" ], "AllowedMethods": [ "GET", "post" ], "MaxAge": "1m" },
                "Aggregates": { "agg": { "Route": "/agg/{id}", "RateLimit": { "PermitLimit": 5, "Window": "1m30s" },
                                         "Sources": { "p": { "Cluster": "users", "Path": "/u/{id}" } } } } } }
            """);

        catalog.ThrowIfInvalid();
        var limits = catalog.Limits;
        Assert.Equal([IPAddress.Parse("10.1.2.3")], limits.TrustedAddresses);
        Assert.Equal([IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("2001:db8::/32")], limits.TrustedNetworks);
        Assert.Equal(new(100, TimeSpan.FromSeconds(1)), limits.PerClient);
        Assert.Equal(512, limits.MaxConcurrentRequests);
        var cors = Assert.IsType<Gateway.Limits.GatewayCors>(limits.Cors).Policy;
        Assert.Equal(["https://app.example.test"], cors.Origins);
        Assert.Equal(["GET", "POST"], cors.Methods);
        Assert.Equal(TimeSpan.FromMinutes(1), cors.PreflightMaxAge);
        Assert.Equal(["X-Aggregate-Complete", "Retry-After", "X-Request-Id"], cors.ExposedHeaders);
        Assert.Equal(new(5, TimeSpan.FromSeconds(90)), Assert.Single(catalog.Configured).RateLimit);
    }

    [Fact]
    public void Load_NothingSet_NoLimitNoProxyNoCors()
    {
        var catalog = AggregationCatalogTests.Load($$"""{ {{Cluster}}, "Gateway": { {{Aggregate}} } }""");

        catalog.ThrowIfInvalid();
        Assert.False(catalog.Limits.HasTrustedProxies);
        Assert.Null(catalog.Limits.PerClient);
        Assert.Null(catalog.Limits.MaxConcurrentRequests);
        Assert.Null(catalog.Limits.Cors);
        Assert.Null(Assert.Single(catalog.Configured).RateLimit);
    }

    [Theory]
    [InlineData("10.0.0.1/8", "Gateway:TrustedProxies:0")]      // bits set past the prefix
    [InlineData("10.1", "Gateway:TrustedProxies:0")]            // IPAddress.TryParse would read 10.0.0.1
    [InlineData("proxy.internal", "Gateway:TrustedProxies:0")]
    [InlineData("10.0.0.0/33", "Gateway:TrustedProxies:0")]
    public void Load_BadTrustedProxy_NamesItsIndex(string proxy, string key)
    {
        var errors = Errors($$""" "TrustedProxies": [ "{{proxy}}" ] """);
        Assert.Contains(errors, e => e.StartsWith(key + ":", StringComparison.Ordinal) && e.Contains(proxy, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(""" "RateLimiting": { "PerClient": { "PermitLimit": 10 } } """, "Gateway:RateLimiting:PerClient:Window")]
    [InlineData(""" "RateLimiting": { "PerClient": { "Window": "1s" } } """, "Gateway:RateLimiting:PerClient:PermitLimit")]
    [InlineData(""" "RateLimiting": { "PerClient": { "PermitLimit": 0, "Window": "1s" } } """, "Gateway:RateLimiting:PerClient:PermitLimit")]
    [InlineData(""" "RateLimiting": { "PerClient": { "PermitLimit": 10, "Window": "1" } } """, "Gateway:RateLimiting:PerClient:Window")]
    [InlineData(""" "RateLimiting": { "PerClient": { "PermitLimit": 10, "Window": "0s" } } """, "Gateway:RateLimiting:PerClient:Window")]
    [InlineData(""" "RateLimiting": { "MaxConcurrentRequests": 0 } """, "Gateway:RateLimiting:MaxConcurrentRequests")]
    [InlineData(""" "RateLimiting": { "MaxConcurent": 10 } """, "Gateway:RateLimiting:MaxConcurent")]
    [InlineData(""" "RateLimiting": { "SocketSendBufferBytes": 100 } """, "Gateway:RateLimiting:SocketSendBufferBytes")]
    [InlineData(""" "RateLimiting": { "SocketSendBufferBytes": -1 } """, "Gateway:RateLimiting:SocketSendBufferBytes")]
    [InlineData(""" "Cors": { "AllowedOrigins": [ "https://app.example.test/" ] } """, "Gateway:Cors:AllowedOrigins:0")]
    [InlineData(""" "Cors": { "AllowedOrigins": [ "app.example.test" ] } """, "Gateway:Cors:AllowedOrigins:0")]
    [InlineData(""" "Cors": { "AllowedOrigins": [ "*" ], "AllowCredentials": true } """, "Gateway:Cors:AllowCredentials")]
    [InlineData(""" "Cors": { "AllowedOrigins": [ "https://a.test" ], "AllowedHeaders": [ "X Bad" ] } """, "Gateway:Cors:AllowedHeaders:0")]
    [InlineData(""" "Cors": { "AllowedMethods": [ "GET" ] } """, "Gateway:Cors:AllowedMethods")]
    public void Load_BadLimitValue_NamesTheKey(string keys, string key)
    {
        var errors = Errors(keys);
        Assert.Contains(errors, e => e.StartsWith(key + ":", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_AggregateRateLimitWithoutWindow_NamesTheAggregatesKey()
    {
        var catalog = AggregationCatalogTests.Load($$"""
            { {{Cluster}}, "Gateway": { "Aggregates": { "agg": { "Route": "/agg/{id}", "RateLimit": { "PermitLimit": 5 },
                                                                 "Sources": { "p": { "Cluster": "users", "Path": "/u/{id}" } } } } } }
            """);

        var errors = Assert.Throws<GatewayConfigurationException>(catalog.ThrowIfInvalid).Errors;
        Assert.Contains(errors, e => e.StartsWith("Gateway:Aggregates:agg:RateLimit:Window:", StringComparison.Ordinal));
    }

    [Fact]
    public void Compile_CodeFirstRateLimitNotPositive_NamesTheMapAggregateCall()
    {
        var catalog = AggregationCatalogTests.Load($$"""{ {{Cluster}}, "Gateway": { {{Aggregate}} } }""");
        var options = new AggregateOptions
        {
            Route = "/card/{id}",
            RateLimit = new RateLimitOptions { PermitLimit = 0, Window = TimeSpan.FromSeconds(1) },
            Sources = new() { ["p"] = new SourceOptions { Cluster = "users", Path = "/u/{id}" } },
        };

        var ex = Assert.Throws<GatewayConfigurationException>(() => catalog.Compile("card", options));
        Assert.Contains(ex.Errors, e => e.StartsWith("MapAggregate(\"card\"):RateLimit:PermitLimit:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("MaxRequestHeaderCount", "0")]
    [InlineData("MaxRequestBodySize", "lots")]
    [InlineData("RequestHeadersTimeout", "30s")]   // Kestrel reads TimeSpan.Parse's form only
    [InlineData("KeepAliveTimeout", "130")]        // which would be 130 days
    public void Load_BadKestrelLimit_NamesTheKey(string key, string value)
    {
        var catalog = AggregationCatalogTests.Load($$"""{ {{Cluster}}, "Kestrel": { "Limits": { "{{key}}": "{{value}}" } }, "Gateway": { {{Aggregate}} } }""");

        var errors = Assert.Throws<GatewayConfigurationException>(catalog.ThrowIfInvalid).Errors;
        Assert.Contains(errors, e => e.StartsWith($"Kestrel:Limits:{key}:", StringComparison.Ordinal));
    }
}
