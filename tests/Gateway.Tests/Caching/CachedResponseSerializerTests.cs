using System.Text;
using Gateway.Caching;
using Gateway.Caching.Redis;
using Gateway.Downstream;
using ZiggyCreatures.Caching.Fusion.Internals;
using ZiggyCreatures.Caching.Fusion.Internals.Distributed;

namespace Gateway.Tests.Caching;

public sealed class CachedResponseSerializerTests
{
    private static readonly DateTimeOffset LoadedAt = new(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);

    [Fact]
    public void RoundTrip_KeepsStatusBodyLoadedAtAndFusionCacheTimes_BodyStoredRaw()
    {
        var body = """{"id":"books","v":1}"""u8.ToArray();
        var entry = new FusionCacheDistributedEntry<CachedResponse>(
            CachedResponse.Stored(203, new SharedBody(body), LoadedAt),
            timestamp: 111,
            logicalExpirationTimestamp: 222,
            tags: null!,
            metadata: new FusionCacheEntryMetadata(true, 333, null, null, 444, null));
        var serializer = new CachedResponseSerializer();

        var bytes = serializer.Serialize(entry);
        var back = serializer.Deserialize<FusionCacheDistributedEntry<CachedResponse>>(bytes)!;

        Assert.Equal(46 + body.Length, bytes.Length);
        Assert.EndsWith("""{"id":"books","v":1}""", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.Equal(203, back.Value.Status);
        Assert.Equal(body, back.Value.Body!.Span.ToArray());
        Assert.Equal(LoadedAt, back.Value.LoadedAt);
        Assert.Equal(111, back.Timestamp);
        Assert.Equal(222, back.LogicalExpirationTimestamp);
        Assert.True(back.Metadata!.IsStale);
        Assert.Equal(333, back.Metadata.EagerExpirationTimestamp);
        Assert.Equal(444, back.Metadata.Size);
    }

    [Fact]
    public void RoundTrip_NoEagerExpirationNoSize_StayNone()
    {
        var entry = new FusionCacheDistributedEntry<CachedResponse>(
            CachedResponse.Stored(200, new SharedBody("[]"u8.ToArray()), LoadedAt), 1, 2, null!, new FusionCacheEntryMetadata(false, null, null, null, null, null));
        var serializer = new CachedResponseSerializer();

        var back = serializer.Deserialize<FusionCacheDistributedEntry<CachedResponse>>(serializer.Serialize(entry))!;

        Assert.False(back.Metadata!.IsStale);
        Assert.Null(back.Metadata.EagerExpirationTimestamp);
        Assert.Null(back.Metadata.Size);
    }

    [Fact]
    public void Deserialize_NotThisFormat_IsAbsent()
    {
        var serializer = new CachedResponseSerializer();

        Assert.Null(serializer.Deserialize<FusionCacheDistributedEntry<CachedResponse>>("""{"not":"ours"}"""u8.ToArray()));
        Assert.Null(serializer.Deserialize<FusionCacheDistributedEntry<CachedResponse>>([]));
    }

    [Fact]
    public void Serialize_AnotherType_IsRefused() =>
        Assert.Throws<NotSupportedException>(() => new CachedResponseSerializer().Serialize("text"));
}
