using System.Net;
using Gateway.Limits;

namespace Gateway.Tests.Limits;

public sealed class ClientPartitionTests
{
    [Fact]
    public void Of_SameIPv4AsMappedIPv6_SameKey() =>
        Assert.Equal(ClientPartition.Of(IPAddress.Parse("203.0.113.7")), ClientPartition.Of(IPAddress.Parse("::ffff:203.0.113.7")));

    [Fact]
    public void Of_TwoIPv4Addresses_DifferentKeys() =>
        Assert.NotEqual(ClientPartition.Of(IPAddress.Parse("203.0.113.7")), ClientPartition.Of(IPAddress.Parse("203.0.113.8")));

    [Fact]
    public void Of_TwoIPv6AddressesInOneSlash64_SameKey() =>
        Assert.Equal(ClientPartition.Of(IPAddress.Parse("2001:db8:1:2::1")), ClientPartition.Of(IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:fffe")));

    [Fact]
    public void Of_IPv6InAnotherSlash64_DifferentKey() =>
        Assert.NotEqual(ClientPartition.Of(IPAddress.Parse("2001:db8:1:2::1")), ClientPartition.Of(IPAddress.Parse("2001:db8:1:3::1")));

    [Fact]
    public void Of_IPv6PrefixThatReadsLikeAnIPv4Number_DifferentKey() =>
        // ::cb00:7107 holds the same 32 bits as 203.0.113.7 in its last word; the /64 rule must not merge them.
        Assert.NotEqual(ClientPartition.Of(IPAddress.Parse("203.0.113.7")), ClientPartition.Of(IPAddress.Parse("::cb00:7107")));

    [Fact]
    public void Of_NoAddress_TheSharedUnknownKey() => Assert.Equal(ClientPartition.Unknown, ClientPartition.Of(null));
}
