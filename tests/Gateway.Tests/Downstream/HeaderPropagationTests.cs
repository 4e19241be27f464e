using Gateway.Downstream;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Downstream;

public sealed class HeaderPropagationTests
{
    [Fact]
    public void Select_OnlyConfiguredHeadersPresentOnTheRequest()
    {
        var inbound = new HeaderDictionary { ["Authorization"] = "Bearer t", ["X-Secret"] = "s", ["Accept-Language"] = "nb" };
        var selected = HeaderPropagation.Select(inbound, ["Authorization", "X-Tenant", "Accept-Language"], out var invalid);
        Assert.Null(invalid);
        Assert.Equal(["Authorization", "Accept-Language"], selected.Select(h => h.Key));
        Assert.Equal("Bearer t", selected[0].Value.ToString());
    }

    [Fact]
    public void Select_HeaderNamedInConnection_IsHopByHopAndNotSent()
    {
        var inbound = new HeaderDictionary { ["Connection"] = "keep-alive, X-Tenant", ["X-Tenant"] = "r", ["Authorization"] = "a" };
        var selected = HeaderPropagation.Select(inbound, ["X-Tenant", "Authorization"], out _);
        Assert.Equal(["Authorization"], selected.Select(h => h.Key));
    }

    [Theory]
    [InlineData("Connection")]
    [InlineData("Keep-Alive")]
    [InlineData("Proxy-Authenticate")]
    [InlineData("Proxy-Authorization")]
    [InlineData("Proxy-Connection")]   // not in RFC 9110's list, but old clients and proxies still send it
    [InlineData("TE")]
    [InlineData("Trailer")]
    [InlineData("transfer-encoding")]
    [InlineData("Upgrade")]
    public void CheckConfigured_HopByHopHeader_IsRefusedNamingTheKey(string header)
    {
        // The only guard: Select sends what the configuration lists, and every list is checked here at start.
        var errors = new List<string>();
        Assert.False(HeaderPropagation.CheckConfigured(header, "Gateway:PropagateHeaders:0", errors));
        Assert.Contains(errors, e => e.StartsWith($"Gateway:PropagateHeaders:0: '{header}' cannot be propagated", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("a\u0001b")]
    [InlineData("\u0000")]
    [InlineData("a\u001fb")]
    [InlineData("a\u007fb")]
    [InlineData("a\rb")]
    [InlineData("a\nb")]
    public void Select_ControlCharacterInAListedHeader_SelectsNothingAndNamesIt(string value)
    {
        var inbound = new HeaderDictionary { ["Authorization"] = "a", ["X-Tenant"] = new(["ok", value]) };
        var selected = HeaderPropagation.Select(inbound, ["Authorization", "X-Tenant"], out var invalid);
        Assert.Empty(selected);
        Assert.Equal("X-Tenant", invalid);
    }

    [Fact]
    public void Select_TabInAListedHeaderOrControlCharacterInAnUnlistedOne_IsAccepted()
    {
        var inbound = new HeaderDictionary { ["X-Tenant"] = "a\tb", ["X-Other"] = "a\u0001b", ["Accept-Language"] = "zoë" };
        var selected = HeaderPropagation.Select(inbound, ["X-Tenant", "Accept-Language"], out var invalid);
        Assert.Null(invalid);
        Assert.Equal(["a\tb", "zoë"], selected.Select(h => h.Value.ToString()));
    }
}
