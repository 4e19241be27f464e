using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class AddressRedactionTests
{
    [Theory]
    [InlineData("http://user:pass@host/", "http://***@host/")]
    [InlineData("https://user:pass@host:8443/base/", "https://***@host:8443/base/")]
    [InlineData("http://user@host/", "http://***@host/")]
    [InlineData("http://user:pass@host", "http://***@host")]
    [InlineData("ftp://user:pass@host/", "ftp://***@host/")]
    [InlineData("http://user:pass@host/?q=1", "http://***@host/?q=1")]
    [InlineData("http://user:pass@host/a?mail=x@y", "http://***@host/a?mail=x@y")]
    public void Redact_UriWithUserInfo_HidesIt(string address, string expected)
    {
        Assert.Equal(expected, AddressRedaction.Redact(address));
    }

    [Theory]
    [InlineData("http://us er:pa ss@host/", "http://***@host/")]
    [InlineData("http://user:p@ss@host/", "http://***@host/")]
    [InlineData("http://user:pa/ss@host/", "http://***@host/")]
    [InlineData("http://user:pa#ss@host/", "http://***@host/")]
    [InlineData("http://user:pass@ho st/", "http://***@ho st/")]
    [InlineData("user:pass@host/", "***@host/")]
    [InlineData("//user:pass@host/", "//***@host/")]
    public void Redact_InvalidAddressWithAt_HidesEverythingBeforeTheLastAt(string address, string expected)
    {
        var redacted = AddressRedaction.Redact(address);

        Assert.Equal(expected, redacted);
        Assert.DoesNotContain("pa", redacted, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://host/")]
    [InlineData("http://host/path?q=1")]
    [InlineData("http://host/users/@me")]
    [InlineData("not an address")]
    [InlineData("")]
    public void Redact_NoUserInfo_LeavesTheAddressAlone(string address)
    {
        Assert.Equal(address, AddressRedaction.Redact(address));
    }

    [Fact]
    public void Redact_Null_ReturnsEmpty()
    {
        Assert.Equal("", AddressRedaction.Redact(null));
    }
}
