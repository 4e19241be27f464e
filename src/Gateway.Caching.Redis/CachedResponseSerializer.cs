using System.Buffers.Binary;
using Gateway.Downstream;
using Gateway.Logging;
using Gateway.Model;
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
/// <remarks>
/// Whoever can write to the Redis can write any bytes under the gateway's keys, so nothing read back is trusted: an
/// entry is taken only when it is exactly what <see cref="Encode"/> writes for an answer the gateway would have
/// stored (<see cref="Check"/>). Anything else is absent: a miss, never kept in memory, overwritten by the next call.
/// </remarks>
internal sealed class CachedResponseSerializer : IFusionCacheSerializer
{
    private const byte Version = 1;
    private const int HeaderLength = 46;
    private const byte Stale = 1;
    private const byte HasEager = 2;

    // An entry written by another instance whose clock is ahead may say it was loaded a little after it was stored.
    private static readonly long ClockSkewTicks = TimeSpan.FromMinutes(1).Ticks;

    private readonly long _maxBytes;
    private readonly ILogger? _logger;
    private readonly LogThrottle? _invalid;

    /// <param name="maxBytes">The most one entry may be charged in memory (<c>Gateway:Cache:MaxBytes</c>): a larger one would never be kept.</param>
    public CachedResponseSerializer(long maxBytes = long.MaxValue, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        _maxBytes = maxBytes;
        _logger = logger;
        _invalid = logger is null ? null : new LogThrottle(timeProvider ?? TimeProvider.System, LogThrottle.DefaultWindow);
    }

    public byte[] Serialize<T>(T? obj) => obj is FusionCacheDistributedEntry<CachedResponse> entry
        ? Encode(entry)
        : throw new NotSupportedException($"only cached responses are stored in Redis, not {typeof(T)}");

    public T? Deserialize<T>(byte[] data)
    {
        if (typeof(T) != typeof(FusionCacheDistributedEntry<CachedResponse>))
        {
            throw new NotSupportedException($"only cached responses are stored in Redis, not {typeof(T)}");
        }

        if (TryDecode(data, _maxBytes, out var entry, out var problem))
        {
            return (T)(object)entry;
        }

        if (_logger is not null && _invalid!.TryEnter(out var suppressed))
        {
            Log.SharedResponseInvalid(_logger, problem, suppressed);
        }

        return default;
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

        // Written in the background: the memory level may have evicted the body (and reused its buffer) meanwhile.
        if (!body.TryRetain())
        {
            throw new InvalidOperationException("the answer was evicted before it was written to Redis");
        }

        try
        {
            return EncodeHeld(entry, response, body);
        }
        finally
        {
            body.Release();
        }
    }

    private static byte[] EncodeHeld(FusionCacheDistributedEntry<CachedResponse> entry, CachedResponse response, StoredBody body)
    {
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

    /// <summary>Reads an entry back; false, with what is wrong with it, when it is not one <see cref="Encode"/> writes for an answer the gateway stores.</summary>
    public static bool TryDecode(byte[] bytes, long maxBytes, out FusionCacheDistributedEntry<CachedResponse> entry, out string problem)
    {
        entry = null!;
        problem = Check(bytes, maxBytes);
        if (problem.Length > 0)
        {
            return false;
        }

        var span = bytes.AsSpan();
        var flags = span[1];
        var response = CachedResponse.Stored(
            BinaryPrimitives.ReadInt32LittleEndian(span[2..]),
            new SharedBody(span[HeaderLength..].ToArray()),
            DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(span[6..])));
        var metadata = new FusionCacheEntryMetadata(
            (flags & Stale) != 0,
            (flags & HasEager) != 0 ? BinaryPrimitives.ReadInt64LittleEndian(span[30..]) : null,
            null,
            null,
            BinaryPrimitives.ReadInt64LittleEndian(span[38..]),
            null);
        entry = new FusionCacheDistributedEntry<CachedResponse>(
            response,
            BinaryPrimitives.ReadInt64LittleEndian(span[14..]),
            BinaryPrimitives.ReadInt64LittleEndian(span[22..]),
            null!,
            metadata);
        return true;
    }

    /// <summary>What is wrong with <paramref name="bytes"/> as a stored answer; empty when nothing is.</summary>
    private static string Check(ReadOnlySpan<byte> bytes, long maxBytes)
    {
        if (bytes.Length < HeaderLength)
        {
            return $"{bytes.Length} bytes, shorter than the {HeaderLength}-byte header";
        }

        if (bytes[0] != Version)
        {
            return $"format version {bytes[0]}, not {Version}";
        }

        var flags = bytes[1];
        if ((flags & ~(Stale | HasEager)) != 0)
        {
            return $"unknown flags {flags}";
        }

        // Only a 2xx answer with a JSON body is ever stored.
        var status = BinaryPrimitives.ReadInt32LittleEndian(bytes[2..]);
        if (status is < 200 or > 299)
        {
            return $"status {status}";
        }

        var body = bytes[HeaderLength..];
        var size = BinaryPrimitives.ReadInt64LittleEndian(bytes[38..]);
        var charged = CachedResponse.Charge(body.Length);

        // The size is what the memory level charges for the entry: it must be the one the body makes, and fit the cache.
        if (size != charged)
        {
            return $"size {size} for a {body.Length}-byte body (expected {charged})";
        }

        if (charged > maxBytes)
        {
            return $"a {body.Length}-byte body, larger than Gateway:Cache:MaxBytes allows";
        }

        var timestamp = BinaryPrimitives.ReadInt64LittleEndian(bytes[14..]);
        var expiration = BinaryPrimitives.ReadInt64LittleEndian(bytes[22..]);
        if (timestamp <= 0 || timestamp > DateTimeOffset.MaxValue.UtcTicks || expiration < timestamp || expiration > DateTimeOffset.MaxValue.UtcTicks)
        {
            return $"timestamp {timestamp} and expiration {expiration} out of order or range";
        }

        if ((flags & HasEager) != 0 && BinaryPrimitives.ReadInt64LittleEndian(bytes[30..]) is var eager && (eager < timestamp || eager > expiration))
        {
            return $"eager expiration {eager} outside the entry's life";
        }

        // Loaded before it was stored (allowing for another instance's clock), and after 1970.
        var loadedAtMs = BinaryPrimitives.ReadInt64LittleEndian(bytes[6..]);
        if (loadedAtMs < 0 || loadedAtMs > (timestamp + ClockSkewTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMillisecond)
        {
            return $"loaded at {loadedAtMs} ms, not before the entry was stored";
        }

        // Exactly one JSON value in valid UTF-8, nothing before or after it: the envelope copies these bytes verbatim.
        return ResponseBody.IsJson(body) ? "" : "the body is not one well-formed JSON value";
    }
}
