using Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class ConfigurationShapeTests
{
    private static (ShapeTestOptions? Options, List<string> Errors, Dictionary<string, string?> Normalized) Check(string json)
    {
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();
        var errors = new List<string>();
        var normalized = ConfigurationShape.Check(configuration.GetSection("S"), typeof(ShapeTestOptions), errors);
        var options = new ConfigurationBuilder().AddInMemoryCollection(normalized).Build().GetSection("S").Get<ShapeTestOptions>();
        return (options, errors, normalized);
    }

    [Fact]
    public void Check_EveryKindOfValue_BindsThemAll()
    {
        var (options, errors, _) = Check("""
            { "S": { "Interval": "1m30s", "Deadline": "00:00:00.300", "Ratio": "0.5", "Attempts": 3, "Enabled": true,
                     "Backoff": "exponential", "Tags": [ "a", "b" ],
                     "Retry": { "Delay": "250ms", "Backoff": "Linear", "Pauses": [ "1s", "00:00:02" ] },
                     "Named": { "x": { "Delay": "1h" } }, "Steps": [ { "Delay": "2s" } ] } }
            """);

        Assert.Empty(errors);
        Assert.NotNull(options);
        Assert.Equal(TimeSpan.FromSeconds(90), options.Interval);
        Assert.Equal(TimeSpan.FromMilliseconds(300), options.Deadline);
        Assert.Equal(0.5, options.Ratio);
        Assert.Equal(3, options.Attempts);
        Assert.True(options.Enabled);
        Assert.Equal(ShapeTestBackoff.Exponential, options.Backoff);
        Assert.Equal(["a", "b"], options.Tags);
        Assert.Equal(new ShapeTestRetryOptions { Delay = TimeSpan.FromMilliseconds(250), Backoff = ShapeTestBackoff.Linear, Pauses = options.Retry!.Pauses }, options.Retry);
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], options.Retry.Pauses);
        Assert.Equal(TimeSpan.FromHours(1), options.Named["x"].Delay);
        Assert.Equal(TimeSpan.FromSeconds(2), Assert.Single(options.Steps).Delay);
    }

    [Fact]
    public void Check_Duration_IsRewrittenToTheInvariantForm()
    {
        var (_, _, normalized) = Check("""{ "S": { "Interval": "1.5s", "Retry": { "Delay": "2m" } } }""");

        Assert.Equal("00:00:01.5000000", normalized["S:Interval"]);
        Assert.Equal("00:02:00", normalized["S:Retry:Delay"]);
    }

    [Fact]
    public void Check_BadValuesInANestedRecord_NamesTheirKeys()
    {
        var (_, errors, _) = Check("""{ "S": { "Retry": { "Delay": "2", "Backof": "Linear", "Pauses": [ "1s", "soon" ] } } }""");

        Assert.Equal(
            [
                "S:Retry:Backof: unknown setting 'Backof'; did you mean 'Backoff'? (known: Delay, Backoff, Pauses)",
                "S:Retry:Delay: '2' is a bare number; write a duration such as \"2s\", \"500ms\" or \"00:00:02\"",
                "S:Retry:Pauses:1: 'soon' is not a duration; write one such as \"2s\", \"500ms\" or \"00:00:02\"",
            ],
            errors);
    }

    [Fact]
    public void Check_BadValues_AreLeftOutAndTheRestStillBinds()
    {
        var (options, errors, _) = Check("""{ "S": { "Interval": "2", "Ratio": "half", "Attempts": "three", "Enabled": true, "Retry": { "Delay": "-1s", "Backoff": "Linear" } } }""");

        Assert.Equal(4, errors.Count);
        Assert.NotNull(options);
        Assert.Equal(TimeSpan.Zero, options.Interval);
        Assert.Null(options.Attempts);
        Assert.True(options.Enabled);
        Assert.Null(options.Retry!.Delay);
        Assert.Equal(ShapeTestBackoff.Linear, options.Retry.Backoff);
    }

    [Theory]
    [InlineData("Sideways")]
    [InlineData("2")]
    public void Check_UnknownEnumValue_NamesTheAllowedOnes(string value)
    {
        var (_, errors, _) = Check($$"""{ "S": { "Backoff": "{{value}}" } }""");

        Assert.Equal([$"S:Backoff: '{value}' is not one of Constant, Linear, Exponential"], errors);
    }

    [Fact]
    public void Check_NumberWhereARecordBelongs_NamesTheKey()
    {
        var (_, errors, _) = Check("""{ "S": { "Retry": "3" } }""");

        Assert.StartsWith("S:Retry: expected an object", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_SingleValueWhereAListBelongs_NamesTheKey()
    {
        var (_, errors, _) = Check("""{ "S": { "Tags": "a" } }""");

        Assert.Equal(["S:Tags: expected a list, not the single value 'a'"], errors);
    }

    [Fact]
    public void Check_ObjectWhereAValueBelongs_NamesTheKey()
    {
        var (_, errors, _) = Check("""{ "S": { "Ratio": { "x": 1 } } }""");

        Assert.Equal(["S:Ratio: expected a single Double value, not an object"], errors);
    }

    [Fact]
    public void Check_EmptyRecordInADictionary_IsKept()
    {
        var (options, errors, _) = Check("""{ "S": { "Named": { "x": {} } } }""");

        Assert.Empty(errors);
        Assert.True(options!.Named.ContainsKey("x"));
    }
}
