using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Limits;

/// <summary>
/// The per-client limit's partition key: the client's address (the connection's, or the one trusted proxies
/// reported), IPv4 as is and IPv6 by its /64 prefix, since one host or home network is given a whole /64 and
/// could otherwise take a new address per request. A 128-bit number: no string per request.
/// </summary>
internal static class ClientPartition
{
    /// <summary>Requests without an address (not a TCP connection) share this key.</summary>
    public static readonly UInt128 Unknown = UInt128.MaxValue;

    public static UInt128 Of(IPAddress? address)
    {
        if (address is null)
        {
            return Unknown;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork && address.TryWriteBytes(bytes, out _))
        {
            return BinaryPrimitives.ReadUInt32BigEndian(bytes);
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.TryWriteBytes(bytes, out _))
        {
            // The /64 prefix in the upper half; bit 32 set so that no IPv6 prefix equals an IPv4 key.
            return new UInt128(BinaryPrimitives.ReadUInt64BigEndian(bytes), 1UL << 32);
        }

        return Unknown;
    }
}
