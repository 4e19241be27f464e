using Gateway.Limits;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Limits;

public sealed class KestrelLimitsTests
{
    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    private static KestrelServerOptions Skewed()
    {
        // Start from values no default has, so that each pinned default is seen to be set.
        var options = new KestrelServerOptions { AddServerHeader = true };
        options.Limits.MaxRequestHeadersTotalSize = 1;
        options.Limits.MaxRequestHeaderCount = 1;
        options.Limits.MaxRequestLineSize = 1;
        options.Limits.MaxRequestBodySize = 1;
        options.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(1);
        options.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(1);
        options.Limits.MinRequestBodyDataRate = null;
        options.Limits.MinResponseDataRate = null;
        return options;
    }

    [Fact]
    public void Apply_NothingConfigured_SetsTheDocumentedDefaultsAndNoServerHeader()
    {
        var options = Skewed();

        KestrelLimits.Apply(options, Configuration());

        var limits = options.Limits;
        Assert.False(options.AddServerHeader);
        Assert.Equal(32 * 1024, limits.MaxRequestHeadersTotalSize);
        Assert.Equal(100, limits.MaxRequestHeaderCount);
        Assert.Equal(8 * 1024, limits.MaxRequestLineSize);
        Assert.Equal(30_000_000, limits.MaxRequestBodySize);
        Assert.Equal(TimeSpan.FromSeconds(30), limits.RequestHeadersTimeout);
        Assert.Equal(TimeSpan.FromSeconds(130), limits.KeepAliveTimeout);
        Assert.Equal(240, limits.MinRequestBodyDataRate?.BytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(5), limits.MinRequestBodyDataRate?.GracePeriod);
        // The gateway's own, not Kestrel's 240 bytes/s: a reader slower than this is cut (with the send buffer cap).
        Assert.Equal(32 * 1024, limits.MinResponseDataRate?.BytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(5), limits.MinResponseDataRate?.GracePeriod);
    }

    [Fact]
    public void Apply_KeysConfigured_TakeThePlaceOfTheDefaults()
    {
        var options = Skewed();

        KestrelLimits.Apply(options, Configuration(
            ("Kestrel:Limits:MaxRequestHeaderCount", "7"),
            ("Kestrel:Limits:RequestHeadersTimeout", "00:00:10"),
            ("Kestrel:Limits:MaxConcurrentConnections", "5000")));

        Assert.Equal(7, options.Limits.MaxRequestHeaderCount);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Limits.RequestHeadersTimeout);
        Assert.Equal(5000, options.Limits.MaxConcurrentConnections);
        Assert.Equal(32 * 1024, options.Limits.MaxRequestHeadersTotalSize);
    }

    [Fact]
    public void Apply_ConfiguredServerHeader_StaysOff()
    {
        var options = Skewed();

        KestrelLimits.Apply(options, Configuration(("Kestrel:AddServerHeader", "true")));

        Assert.False(options.AddServerHeader);
    }

    [Theory]
    [InlineData("MaxRequestHeaderCount", "0", "'0' is refused by Kestrel: Value must be a positive number.")]
    [InlineData("MaxRequestHeaderCount", "many", "'many' is not a valid Int32")]
    [InlineData("MaxRequestBodySize", "-5", "'-5' is refused by Kestrel")]
    [InlineData("MaxConcurrentConnections", "x", "'x' is not a valid Int64")]
    [InlineData("MaxRequestBufferSize", "0", "'0' is refused by Kestrel")]
    [InlineData("KeepAliveTimeout", "30s", "'30s' is not a positive duration in Kestrel's form")]
    [InlineData("KeepAliveTimeout", "30", "'30' is not a positive duration in Kestrel's form")]
    [InlineData("RequestHeadersTimeout", "00:00:00", "'00:00:00' is not a positive duration")]
    [InlineData("Http2:MaxFrameSize", "1", "'1' is refused by Kestrel")]
    [InlineData("Http2:MaxStreamsPerConnection", "0", "'0' is refused by Kestrel")]
    [InlineData("Http2:KeepAlivePingDelay", "00:00:00.1", "'00:00:00.1' is refused by Kestrel")]
    [InlineData("Http2:InitialStreamWindowSize", "big", "'big' is not a valid Int32")]
    [InlineData("Http3:MaxRequestHeaderFieldSize", "0", "'0' is refused by Kestrel")]
    [InlineData("MaxRequestHeaderCuont", "10", "unknown setting 'MaxRequestHeaderCuont'")]
    [InlineData("Http2:MaxFrameSise", "10", "unknown setting 'MaxFrameSise'")]
    [InlineData("MinResponseDataRate:BytesPerSecond", "-1", "refused by Kestrel")]
    [InlineData("MinResponseDataRate:BytesPerSecond", "fast", "'fast' is not a valid Double")]
    [InlineData("MinResponseDataRate:Grace", "00:00:05", "unknown setting 'Grace'")]
    public void Check_BadValue_NamesTheKeyAndWhy(string key, string value, string expected)
    {
        // A data rate takes both of its keys: the other one is valid.
        var configuration = key.StartsWith("MinResponseDataRate", StringComparison.Ordinal)
            ? Configuration(("Kestrel:Limits:MinResponseDataRate:GracePeriod", "00:00:05"), ("Kestrel:Limits:MinResponseDataRate:BytesPerSecond", "100"))
            : Configuration();
        configuration["Kestrel:Limits:" + key] = value;

        var errors = new List<string>();

        KestrelLimits.Check(configuration, errors);

        var error = Assert.Single(errors);
        Assert.StartsWith(key.StartsWith("MinResponseDataRate", StringComparison.Ordinal) && expected.Contains("refused", StringComparison.Ordinal) ? "Kestrel:Limits:MinResponseDataRate: " : $"Kestrel:Limits:{key}: ", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_DataRateGraceWithinKestrelsHeartbeat_Refused()
    {
        var errors = new List<string>();

        KestrelLimits.Check(Configuration(("Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond", "100"), ("Kestrel:Limits:MinRequestBodyDataRate:GracePeriod", "00:00:00.5")), errors);

        Assert.Contains("Kestrel:Limits:MinRequestBodyDataRate: refused by Kestrel", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_DataRateWithoutItsGracePeriod_AsksForBoth()
    {
        var errors = new List<string>();

        KestrelLimits.Check(Configuration(("Kestrel:Limits:MinResponseDataRate:BytesPerSecond", "100")), errors);

        Assert.Equal("Kestrel:Limits:MinResponseDataRate: set both BytesPerSecond and GracePeriod", Assert.Single(errors));
    }

    [Fact]
    public void Check_ValidValuesOfEveryKind_NoError()
    {
        var errors = new List<string>();

        KestrelLimits.Check(Configuration(
            ("Kestrel:Limits:MaxRequestHeaderCount", "50"),
            ("Kestrel:Limits:MaxRequestBodySize", ""),
            ("Kestrel:Limits:MaxConcurrentConnections", "5000"),
            ("Kestrel:Limits:KeepAliveTimeout", "00:02:10"),
            ("Kestrel:Limits:Http2:MaxStreamsPerConnection", "200"),
            ("Kestrel:Limits:Http2:KeepAlivePingDelay", "00:00:30"),
            ("Kestrel:Limits:Http3:MaxRequestHeaderFieldSize", "16384"),
            ("Kestrel:Limits:MinResponseDataRate:BytesPerSecond", "1000"),
            ("Kestrel:Limits:MinResponseDataRate:GracePeriod", "00:00:10")), errors);

        Assert.Empty(errors);
    }

    [Fact]
    public void Apply_DataRateConfigured_TakesThePlaceOfTheDefault()
    {
        var options = Skewed();

        KestrelLimits.Apply(options, Configuration(("Kestrel:Limits:MinResponseDataRate:BytesPerSecond", "1000"), ("Kestrel:Limits:MinResponseDataRate:GracePeriod", "00:00:10")));

        Assert.Equal(1000, options.Limits.MinResponseDataRate?.BytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Limits.MinResponseDataRate?.GracePeriod);
    }

    [Fact]
    public void Apply_DataRateNull_NoMinimum()
    {
        var options = Skewed();
        options.Limits.MinResponseDataRate = new MinDataRate(1, TimeSpan.FromSeconds(2));

        KestrelLimits.Apply(options, Configuration(("Kestrel:Limits:MinResponseDataRate", "")));

        Assert.Null(options.Limits.MinResponseDataRate);
        Assert.Equal(240, options.Limits.MinRequestBodyDataRate?.BytesPerSecond);
    }

    [Fact]
    public void Apply_BadValues_DoesNotThrowAndKeepsTheDefaults()
    {
        // The configuration check reports them (exit code 2); Kestrel's options are built before it throws.
        var options = Skewed();

        KestrelLimits.Apply(options, Configuration(("Kestrel:Limits:MaxRequestHeaderCount", "0"), ("Kestrel:Limits:KeepAliveTimeout", "30s")));

        Assert.Equal(100, options.Limits.MaxRequestHeaderCount);
        Assert.Equal(TimeSpan.FromSeconds(130), options.Limits.KeepAliveTimeout);
    }
}
