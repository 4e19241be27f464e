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
        Assert.Equal(240, limits.MinResponseDataRate?.BytesPerSecond);
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
}
