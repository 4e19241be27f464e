using Gateway.Downstream;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Downstream;

public sealed class RequestBudgetTests
{
    [Theory]
    [InlineData("300", 300)]
    [InlineData("0", 0)]
    [InlineData("9000", 5000)]
    [InlineData("abc", 5000)]
    [InlineData("-5", 5000)]
    [InlineData("1e3", 5000)]
    [InlineData(" 300", 5000)]
    [InlineData("99999999999999999999999", 5000)]
    public void Shorten_ClientBudget_LowerValidValueWinsMalformedIgnored(string header, int expectedMs)
    {
        var headers = new HeaderDictionary { ["X-Request-Budget-Ms"] = header };
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), RequestBudget.Shorten(TimeSpan.FromSeconds(5), headers, "X-Request-Budget-Ms"));
    }

    [Theory]
    [InlineData("4294967294", true)]
    [InlineData("4294967295", false)]
    [InlineData("9223372036854775807", false)]
    [InlineData("99999999999999999999", false)]
    [InlineData("-5", false)]
    [InlineData("soon", false)]
    public void TryRead_BudgetAboveWhatATimerTakes_IsIgnoredLikeANumberTooLarge(string header, bool read)
    {
        var headers = new HeaderDictionary { ["X-Request-Budget-Ms"] = header };

        Assert.Equal(read, RequestBudget.TryRead(headers, "X-Request-Budget-Ms", out var budget));
        if (read)
        {
            // Whatever is read can be timed: a route without Timeout arms a timer with it.
            using var timer = new CancellationTokenSource(budget, TimeProvider.System);
            Assert.Equal(RequestBudget.MaxBudget, budget);
        }
    }

    [Fact]
    public void Shorten_RepeatedHeader_IsIgnored()
    {
        var headers = new HeaderDictionary { ["X-Request-Budget-Ms"] = new(["100", "200"]) };
        Assert.Equal(TimeSpan.FromSeconds(5), RequestBudget.Shorten(TimeSpan.FromSeconds(5), headers, "X-Request-Budget-Ms"));
    }

    [Theory]
    [InlineData(1, "1")]
    [InlineData(1001, "2")]
    [InlineData(0, "1")]
    public void WholeSeconds_RoundsUpAtLeastOne(int ms, string expected) =>
        Assert.Equal(expected, RequestBudget.WholeSeconds(TimeSpan.FromMilliseconds(ms)));
}
