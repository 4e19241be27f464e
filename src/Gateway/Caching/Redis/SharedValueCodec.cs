using System.Buffers.Binary;
using System.Text;

namespace Gateway.Caching.Redis;

/// <summary>
/// A shared value as Redis stores it: one string (so it is written and read whole), a 22-byte header, the writer's
/// id, then the body exactly as the downstream sent it. Header, little-endian: format version (1 byte, 1), status
/// (int32), loaded at (Unix ms, int64), the time to live it was written with (ms, int64; its age is that minus
/// <c>PTTL</c>), writer length (1 byte).
/// </summary>
internal static class SharedValueCodec
{
    private const byte Version = 1;
    private const int HeaderLength = 22;

    public static byte[] Encode(SharedValue value, TimeSpan ttl)
    {
        var writer = Encoding.UTF8.GetBytes(value.Writer);
        if (writer.Length > byte.MaxValue)
        {
            writer = writer[..byte.MaxValue];
        }

        var bytes = new byte[HeaderLength + writer.Length + value.Body.Length];
        var span = bytes.AsSpan();
        span[0] = Version;
        BinaryPrimitives.WriteInt32LittleEndian(span[1..], value.Status);
        BinaryPrimitives.WriteInt64LittleEndian(span[5..], value.LoadedAtUnixMs);
        BinaryPrimitives.WriteInt64LittleEndian(span[13..], (long)ttl.TotalMilliseconds);
        span[21] = (byte)writer.Length;
        writer.CopyTo(span[HeaderLength..]);
        value.Body.CopyTo(span[(HeaderLength + writer.Length)..]);
        return bytes;
    }

    /// <summary>False for anything this version did not write (another format, or a value set by hand): it is ignored, and the next refresh overwrites it.</summary>
    public static bool TryDecode(byte[] bytes, out SharedValue value, out TimeSpan ttl)
    {
        value = null!;
        ttl = default;
        var span = bytes.AsSpan();
        if (span.Length < HeaderLength || span[0] != Version || span.Length < HeaderLength + span[21] + 1)
        {
            return false;
        }

        var writerLength = span[21];
        ttl = TimeSpan.FromMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(span[13..]));
        value = new SharedValue(
            span[(HeaderLength + writerLength)..].ToArray(),
            BinaryPrimitives.ReadInt32LittleEndian(span[1..]),
            BinaryPrimitives.ReadInt64LittleEndian(span[5..]),
            Encoding.UTF8.GetString(span.Slice(HeaderLength, writerLength)));
        return true;
    }
}
