using Gateway.OpenApi;

namespace Gateway.Tests.OpenApi;

public sealed class OpenApiTextTests
{
    [Theory]
    [InlineData(300, "300 ms")]
    [InlineData(1_000, "1 s")]
    [InlineData(1_500, "1.5 s")]
    [InlineData(90_000, "90 s")]
    [InlineData(120_000, "2 min")]
    [InlineData(150_500, "150.5 s")]
    public void Duration_Value_ReadsAsPeopleWriteIt(int milliseconds, string expected) =>
        Assert.Equal(expected, OpenApiText.Duration(TimeSpan.FromMilliseconds(milliseconds)));

    [Theory]
    [InlineData("dashboard", "dashboard")]
    [InlineData("user cards/v2", "user_cards_v2")]
    [InlineData("a.b-c_d", "a.b-c_d")]
    [InlineData("ünï", "_n_")]
    public void ComponentName_AnyAggregateName_KeepsOnlyWhatOpenApiAccepts(string name, string expected) =>
        Assert.Equal(expected, OpenApiText.ComponentName(name));
}
