using Gateway.Configuration;
using Gateway.Telemetry;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Trace;

namespace Gateway.Tests.Telemetry;

public sealed class TraceSamplingTests
{
    private static Sampler? FromSettings(params (string Key, string Value)[] settings) =>
        TraceSampling.FromConfiguration(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    [Fact]
    public void FromConfiguration_NoSamplerSet_LeavesTheSdkDefault()
    {
        Assert.Null(FromSettings());
    }

    [Theory]
    [InlineData("always_on", "AlwaysOnSampler")]
    [InlineData("always_off", "AlwaysOffSampler")]
    [InlineData("parentbased_always_on", "ParentBased{AlwaysOnSampler}")]
    [InlineData("PARENTBASED_ALWAYS_OFF", "ParentBased{AlwaysOffSampler}")]
    public void FromConfiguration_StandardName_BuildsThatSampler(string name, string description)
    {
        Assert.Equal(description, FromSettings(("OTEL_TRACES_SAMPLER", name))!.Description);
    }

    [Fact]
    public void FromConfiguration_ParentBasedRatio_UsesTheArgument()
    {
        var sampler = FromSettings(("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"), ("OTEL_TRACES_SAMPLER_ARG", "0.25"));

        Assert.StartsWith("ParentBased{TraceIdRatioBasedSampler{0.25", sampler!.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void FromConfiguration_UnknownSampler_FailsNamingTheVariable()
    {
        var error = Assert.Throws<GatewayConfigurationException>(() => FromSettings(("OTEL_TRACES_SAMPLER", "sometimes")));

        Assert.StartsWith("OTEL_TRACES_SAMPLER:", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("half")]
    [InlineData("1.5")]
    public void FromConfiguration_RatioOutOfRange_FailsNamingTheArgument(string arg)
    {
        var error = Assert.Throws<GatewayConfigurationException>(() => FromSettings(("OTEL_TRACES_SAMPLER", "traceidratio"), ("OTEL_TRACES_SAMPLER_ARG", arg)));

        Assert.StartsWith("OTEL_TRACES_SAMPLER_ARG:", Assert.Single(error.Errors), StringComparison.Ordinal);
    }
}
