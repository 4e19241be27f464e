using System.Buffers.Binary;
using Gateway.Downstream;
using ZiggyCreatures.Caching.Fusion.Internals;
using ZiggyCreatures.Caching.Fusion.Internals.Distributed;
using ZiggyCreatures.Caching.Fusion.Serialization;

namespace Gateway.Caching.Redis;

/// <summary>
/// How a cached answer is stored in Redis (FusionCache's distributed entry of a <see cref="CachedResponse"/>): a
/// 46-byte header, then the body exactly as the downstream sent it (raw JSON, not base64). Header, little-endian:
/// format version (1 byte, 1), flags (1 byte: 1 stale, 2 has eager expiration), status (int32), loaded at (Unix ms,
/// int64), FusionCache's timestamp, logical expiration and eager expiration (ticks, int64 each), size (int64, -1 none).
/// Tags, ETag, last-modified and priority are not used by the gateway and not stored.
/// </summary>
internal sealed class CachedResponseSerializer : IFusionCacheSerializer
{
    private const byte Version = 1;
    private const int HeaderLength = 46;
    private const byte Stale = 1;
    private const byte HasEager = 2;

    public byte[] Serialize<T>(T? obj) => obj is FusionCacheDistributedEntry<CachedResponse> entry
        ? Encode(entry)
        : throw new NotSupportedException($"only cached responses are stored in Redis, not {typeof(T)}");

    public T? Deserialize<T>(byte[] data)
    {
        if (typeof(T) != typeof(FusionCacheDistributedEntry<CachedResponse>))
        {
            throw new NotSupportedException($"only cached responses are stored in Redis, not {typeof(T)}");
        }

        // Anything this version did not write is treated as absent: the next call overwrites it.
        return TryDecode(data, out var entry) ? (T)(object)entry : default;
    }

    public ValueTask<byte[]> SerializeAsync<T>(T? obj, CancellationToken token = default) => ValueTask.FromResult(Serialize(obj));

    public ValueTask<T?> DeserializeAsync<T>(byte[] data, CancellationToken token = default) => ValueTask.FromResult(Deserialize<T>(data));

    public static byte[] Encode(FusionCacheDistributedEntry<CachedResponse> entry)
    {
        var response = entry.Value;
        if (response.Body is not { } body)
        {
            throw new InvalidOperationException("an answer passed through is never stored");
        }

        var metadata = entry.Metadata;
        var bytes = new byte[HeaderLength + body.Length];
        var span = bytes.AsSpan();
        span[0] = Version;
        span[1] = (byte)((metadata?.IsStale == true ? Stale : 0) | (metadata?.EagerExpirationTimestamp is null ? 0 : HasEager));
        BinaryPrimitives.WriteInt32LittleEndian(span[2..], response.Status);
        BinaryPrimitives.WriteInt64LittleEndian(span[6..], response.LoadedAt.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteInt64LittleEndian(span[14..], entry.Timestamp);
        BinaryPrimitives.WriteInt64LittleEndian(span[22..], entry.LogicalExpirationTimestamp);
        BinaryPrimitives.WriteInt64LittleEndian(span[30..], metadata?.EagerExpirationTimestamp ?? 0);
        BinaryPrimitives.WriteInt64LittleEndian(span[38..], metadata?.Size ?? -1);
        body.Span.CopyTo(span[HeaderLength..]);
        return bytes;
    }

    public static bool TryDecode(byte[] bytes, out FusionCacheDistributedEntry<CachedResponse> entry)
    {
        entry = null!;
        var span = bytes.AsSpan();
        if (span.Length < HeaderLength || span[0] != Version)
        {
            return false;
        }

        var flags = span[1];
        var size = BinaryPrimitives.ReadInt64LittleEndian(span[38..]);
        var response = CachedResponse.Stored(
            BinaryPrimitives.ReadInt32LittleEndian(span[2..]),
            new SharedBody(span[HeaderLength..].ToArray()),
            DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(span[6..])));
        var metadata = new FusionCacheEntryMetadata(
            (flags & Stale) != 0,
            (flags & HasEager) != 0 ? BinaryPrimitives.ReadInt64LittleEndian(span[30..]) : null,
            null,
            null,
            size >= 0 ? size : null,
            null);
        entry = new FusionCacheDistributedEntry<CachedResponse>(
            response,
            BinaryPrimitives.ReadInt64LittleEndian(span[14..]),
            BinaryPrimitives.ReadInt64LittleEndian(span[22..]),
            null!,
            metadata);
        return true;
    }
}
