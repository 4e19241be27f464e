using Gateway.Configuration;
using Gateway.Tests.Configuration;

namespace Gateway.Tests.Logging;

/// <summary><c>Gateway:Logging</c> and <c>Gateway:Diagnostics</c>: defaults, accepted values, and start-up errors naming the key.</summary>
public sealed class LoggingConfigurationTests
{
    [Fact]
    public void Load_NoLoggingOrDiagnosticsSection_TakesTheDefaults()
    {
        var catalog = AggregationCatalogTests.Load("""{ "Gateway": {} }""");

        catalog.ThrowIfInvalid();
        Assert.False(catalog.Options.Logging.Json);
        Assert.Equal(TimeSpan.FromSeconds(10), catalog.Options.Logging.FailureLogInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(100), catalog.Options.Diagnostics.LagWarning);
    }

    [Fact]
    public void Load_GoStyleValues_AreRead()
    {
        var catalog = AggregationCatalogTests.Load("""
            { "Gateway": { "Logging": { "Json": true, "FailureLogInterval": "1m" }, "Diagnostics": { "LagWarning": "250ms" } } }
            """);

        catalog.ThrowIfInvalid();
        Assert.True(catalog.Options.Logging.Json);
        Assert.Equal(TimeSpan.FromMinutes(1), catalog.Options.Logging.FailureLogInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(250), catalog.Options.Diagnostics.LagWarning);
    }

    [Theory]
    [InlineData("""{ "Logging": { "Json": "yes" } }""", "Gateway:Logging:Json")]
    [InlineData("""{ "Logging": { "FailureLogInterval": "soon" } }""", "Gateway:Logging:FailureLogInterval")]
    [InlineData("""{ "Logging": { "FailureLogInterval": "2h" } }""", "Gateway:Logging:FailureLogInterval")]
    [InlineData("""{ "Logging": { "FailureLogInterval": "-1s" } }""", "Gateway:Logging:FailureLogInterval")]
    [InlineData("""{ "Logging": { "Jsn": true } }""", "Gateway:Logging:Jsn")]
    [InlineData("""{ "Diagnostics": { "LagWarning": "0s" } }""", "Gateway:Diagnostics:LagWarning")]
    [InlineData("""{ "Diagnostics": { "LagWarning": "100" } }""", "Gateway:Diagnostics:LagWarning")]
    [InlineData("""{ "Diagnostics": { "LagWarnng": "100ms" } }""", "Gateway:Diagnostics:LagWarnng")]
    public void Load_BadValue_NamesTheKey(string gateway, string key)
    {
        var catalog = AggregationCatalogTests.Load($$"""{ "Gateway": {{gateway}} }""");

        var error = Assert.Throws<GatewayConfigurationException>(catalog.ThrowIfInvalid);
        Assert.Contains(error.Errors, e => e.StartsWith(key + ":", StringComparison.Ordinal));
    }
}
