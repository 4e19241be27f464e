using Gateway.Downstream;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Downstream;

public sealed class HeaderPropagationTests
{
    [Fact]
    public void Select_OnlyConfiguredHeadersPresentOnTheRequest()
    {
        var inbound = new HeaderDictionary { ["Authorization"] = "Bearer t", ["X-Secret"] = "s", ["Accept-Language"] = "nb" };
        var selected = HeaderPropagation.Select(inbound, ["Authorization", "X-Request-Id", "Accept-Language"]);
        Assert.Equal(["Authorization", "Accept-Language"], selected.Select(h => h.Key));
        Assert.Equal("Bearer t", selected[0].Value.ToString());
    }

    [Fact]
    public void Select_HeaderNamedInConnection_IsHopByHopAndNotSent()
    {
        var inbound = new HeaderDictionary { ["Connection"] = "keep-alive, X-Request-Id", ["X-Request-Id"] = "r", ["Authorization"] = "a" };
        var selected = HeaderPropagation.Select(inbound, ["X-Request-Id", "Authorization"]);
        Assert.Equal(["Authorization"], selected.Select(h => h.Key));
    }
}
