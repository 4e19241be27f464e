using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class DurationTextTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("2s", 2_000)]
    [InlineData("1m", 60_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("0.25m", 15_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1h2m3s4ms", 3_723_004)]
    [InlineData("0s", 0)]
    [InlineData(" 2s ", 2_000)]
    public void TryParse_GoStyleDuration_ReturnsIt(string text, long milliseconds)
    {
        Assert.True(DurationText.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("00:00:02", 2_000)]
    [InlineData("00:00:00.300", 300)]
    [InlineData("00:01:30", 90_000)]
    [InlineData("1.00:00:00", 86_400_000)]
    [InlineData("00:00:00", 0)]
    public void TryParse_DotNetForm_ReturnsIt(string text, long milliseconds)
    {
        Assert.True(DurationText.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Fact]
    public void TryParse_FractionBelowATick_IsCutOff()
    {
        Assert.True(DurationText.TryParse("0.00000001s", out var value));
        Assert.Equal(TimeSpan.Zero, value);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("0")]
    [InlineData("1.5")]
    [InlineData("-2")]
    [InlineData("1e3")]
    public void TryParse_BareNumber_Refuses(string text)
    {
        Assert.False(DurationText.TryParse(text, out _));
        Assert.True(DurationText.IsBareNumber(text));
    }

    [Theory]
    [InlineData("-2s")]
    [InlineData("-00:00:02")]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData(null)]
    [InlineData("soon")]
    [InlineData("2S")]
    [InlineData("2 s")]
    [InlineData("2sec")]
    [InlineData("2d")]
    [InlineData("2us")]
    [InlineData("s")]
    [InlineData("ms")]
    [InlineData(".5s")]
    [InlineData("5.s")]
    [InlineData("1.2.3s")]
    [InlineData("2s3")]
    [InlineData("+2s")]
    [InlineData("1m-30s")]
    [InlineData("99999999999999999999999999999999h")]
    [InlineData("10675200d")]
    [InlineData("256204779h")]
    [InlineData("25:61:00")]
    public void TryParse_Nonsense_Refuses(string? text)
    {
        Assert.False(DurationText.TryParse(text, out _));
    }

    [Fact]
    public void TryParse_LargestDuration_DoesNotOverflow()
    {
        Assert.True(DurationText.TryParse("256204778h", out var value));
        Assert.Equal(TimeSpan.FromHours(256204778), value);
        Assert.False(DurationText.TryParse("256204778h49m", out _));
    }

    [Fact]
    public void Explain_BareNumber_SuggestsTheAcceptedForms()
    {
        Assert.Equal("'2' is a bare number; write a duration such as \"2s\", \"500ms\" or \"00:00:02\"", DurationText.Explain("2"));
    }

    [Theory]
    [InlineData("-2s")]
    [InlineData("-00:00:02")]
    public void Explain_Negative_SaysNegative(string text)
    {
        Assert.StartsWith($"'{text}' is negative;", DurationText.Explain(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-soon")]
    public void Explain_Nonsense_SaysNotADuration(string text)
    {
        Assert.Equal($"'{text}' is not a duration; write one such as \"2s\", \"500ms\" or \"00:00:02\"", DurationText.Explain(text));
    }
}
