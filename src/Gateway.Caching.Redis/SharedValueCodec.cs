using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

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

    // Far beyond any dataset's fresh period plus MaxStaleness, and well inside TimeSpan.
    private static readonly long MaxTtlMs = (long)TimeSpan.FromDays(3650).TotalMilliseconds;

    public static byte[] Encode(SharedValue value, TimeSpan ttl)
    {
        var writer = Encoding.UTF8.GetBytes(value.Writer);
        if (writer.Length > byte.MaxValue)
        {
            // Cut on a character boundary: the reader refuses a writer that is not valid UTF-8.
            var length = byte.MaxValue;
            while (length > 0 && (writer[length] & 0xC0) == 0x80)
            {
                length--;
            }

            writer = writer[..length];
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
    public static bool TryDecode(byte[] bytes, out SharedValue value, out TimeSpan ttl) => TryDecode(bytes, out value, out ttl, out _);

    /// <summary>
    /// Checks the format before anything is used: the header, the lengths (a writer and a body that fit, a body not
    /// empty), a writer in valid UTF-8, a success status and a time to live in range. <paramref name="problem"/> says
    /// what is wrong (never the bytes themselves). The body's JSON is checked by the caller, as for any store.
    /// </summary>
    public static bool TryDecode(byte[] bytes, out SharedValue value, out TimeSpan ttl, out string? problem)
    {
        value = null!;
        ttl = default;
        var span = bytes.AsSpan();
        problem = span.Length < HeaderLength ? $"{span.Length} bytes, shorter than the {HeaderLength}-byte header"
            : span[0] != Version ? $"format version {span[0]}, not {Version}"
            : span[21] == 0 ? "no writer"
            : span.Length < HeaderLength + span[21] + 1 ? "its writer or body is cut short"
            : null;
        if (problem is not null)
        {
            return false;
        }

        var writerLength = span[21];
        var writer = span.Slice(HeaderLength, writerLength);
        var status = BinaryPrimitives.ReadInt32LittleEndian(span[1..]);
        var ttlMs = BinaryPrimitives.ReadInt64LittleEndian(span[13..]);
        problem = !Utf8.IsValid(writer) ? "its writer is not valid UTF-8"
            : status is < 200 or > 299 ? $"status {status}, not a success"
            : ttlMs <= 0 || ttlMs > MaxTtlMs ? $"a time to live of {ttlMs} ms"
            : null;
        if (problem is not null)
        {
            return false;
        }

        ttl = TimeSpan.FromMilliseconds(ttlMs);
        value = new SharedValue(
            span[(HeaderLength + writerLength)..].ToArray(),
            status,
            BinaryPrimitives.ReadInt64LittleEndian(span[5..]),
            Encoding.UTF8.GetString(writer));
        return true;
    }
}
