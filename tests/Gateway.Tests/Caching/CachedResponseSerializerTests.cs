using System.Buffers.Binary;
using System.Text;
using Gateway.Caching;
using Gateway.Caching.Redis;
using Gateway.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using ZiggyCreatures.Caching.Fusion.Internals;
using ZiggyCreatures.Caching.Fusion.Internals.Distributed;

namespace Gateway.Tests.Caching;

public sealed class CachedResponseSerializerTests
{
    private static readonly DateTimeOffset LoadedAt = new(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);
    private static readonly long Stored = LoadedAt.UtcTicks + TimeSpan.TicksPerMillisecond;
    private static readonly long Expires = Stored + TimeSpan.FromMinutes(5).Ticks;

    private static FusionCacheDistributedEntry<CachedResponse> Entry(byte[] body, int status = 200, bool stale = false, long? eager = null) =>
        new(
            CachedResponse.Stored(status, new SharedBody(body), LoadedAt),
            timestamp: Stored,
            logicalExpirationTimestamp: Expires,
            tags: null!,
            metadata: new FusionCacheEntryMetadata(stale, eager, null, null, CachedResponse.Charge(body.Length), null));

    [Fact]
    public void RoundTrip_KeepsStatusBodyLoadedAtAndFusionCacheTimes_BodyStoredRaw()
    {
        var body = """{"id":"books","v":1}"""u8.ToArray();
        var eager = Stored + TimeSpan.FromMinutes(1).Ticks;
        var serializer = new CachedResponseSerializer();

        var bytes = serializer.Serialize(Entry(body, status: 203, stale: true, eager: eager));
        var back = serializer.Deserialize<FusionCacheDistributedEntry<CachedResponse>>(bytes)!;

        Assert.Equal(46 + body.Length, bytes.Length);
        Assert.EndsWith("""{"id":"books","v":1}""", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.Equal(203, back.Value.Status);
        Assert.Equal(body, back.Value.Body!.Span.ToArray());
        Assert.Equal(LoadedAt, back.Value.LoadedAt);
        Assert.Equal(Stored, back.Timestamp);
        Assert.Equal(Expires, back.LogicalExpirationTimestamp);
        Assert.True(back.Metadata!.IsStale);
        Assert.Equal(eager, back.Metadata.EagerExpirationTimestamp);
        Assert.Equal(CachedResponse.Charge(body.Length), back.Metadata.Size);
    }

    [Fact]
    public void RoundTrip_NoEagerExpiration_StaysNone()
    {
        var serializer = new CachedResponseSerializer();

        var back = serializer.Deserialize<FusionCacheDistributedEntry<CachedResponse>>(serializer.Serialize(Entry("[]"u8.ToArray())))!;

        Assert.False(back.Metadata!.IsStale);
        Assert.Null(back.Metadata.EagerExpirationTimestamp);
    }

    [Fact]
    public void Deserialize_NotThisFormat_IsAbsent()
    {
        var serializer = new CachedResponseSerializer();

        Assert.Null(serializer.Deserialize<FusionCacheDistributedEntry<CachedResponse>>("""{"not":"ours"}"""u8.ToArray()));
        Assert.Null(serializer.Deserialize<FusionCacheDistributedEntry<CachedResponse>>([]));
    }

    public static TheoryData<string, string> Forgeries => new()
    {
        // The envelope copies the body verbatim: anything but one JSON value would rewrite it.
        { "text after the value", """{"v":1}},"errors":{"x":"forged"}""" },
        { "two values", """{"v":1} {"v":2}""" },
        { "not closed", """{"v":1""" },
        { "not JSON", "<html>forged</html>" },
        { "empty", "" },
        { "a comment", """{"v":1} // hi""" },
        { "byte order mark", "\uFEFF{\"v\":1}" },
    };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public void Deserialize_BodyNotOneJsonValue_IsAbsent(string why, string body)
    {
        var bytes = Encoded(Encoding.UTF8.GetBytes(body));

        Assert.True(Decode(bytes) is null, why);
    }

    [Fact]
    public void Deserialize_InvalidUtf8_IsAbsent() =>
        Assert.Null(Decode(Encoded([(byte)'"', 0xC3, 0x28, (byte)'"'])));

    [Theory]
    [InlineData(599)]
    [InlineData(500)]
    [InlineData(404)]
    [InlineData(199)]
    [InlineData(0)]
    [InlineData(-200)]
    [InlineData(300)]
    public void Deserialize_StatusNotSuccess_IsAbsent(int status)
    {
        var bytes = Encoded("{}"u8.ToArray());
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), status);

        Assert.Null(Decode(bytes));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(0)]
    [InlineData(255)]
    public void Deserialize_OtherVersion_IsAbsent(byte version)
    {
        var bytes = Encoded("{}"u8.ToArray());
        bytes[0] = version;

        Assert.Null(Decode(bytes));
    }

    [Fact]
    public void Deserialize_UnknownFlags_IsAbsent()
    {
        var bytes = Encoded("{}"u8.ToArray());
        bytes[1] = 4;

        Assert.Null(Decode(bytes));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(1L)]
    [InlineData(513L)]
    [InlineData(long.MaxValue)]
    public void Deserialize_SizeNotTheBodys_IsAbsent(long size)
    {
        // The memory level charges this size: a forged small one would let a large body past MaxBytes.
        var bytes = Encoded("{}"u8.ToArray());
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(38), size);

        Assert.Null(Decode(bytes));
    }

    [Fact]
    public void Deserialize_LargerThanMaxBytes_IsAbsent()
    {
        var body = Encoding.UTF8.GetBytes($"\"{new string('x', 2000)}\"");
        var bytes = Encoded(body);

        Assert.NotNull(Decode(bytes, maxBytes: CachedResponse.Charge(body.Length)));
        Assert.Null(Decode(bytes, maxBytes: CachedResponse.Charge(body.Length) - 1));
    }

    [Theory]
    [InlineData(14, 0L)] // no timestamp
    [InlineData(14, -5L)]
    [InlineData(14, long.MaxValue)]
    [InlineData(22, 1L)] // expires before it was stored
    [InlineData(22, long.MaxValue)]
    [InlineData(6, -1L)] // loaded before 1970
    [InlineData(6, long.MaxValue)] // out of DateTimeOffset's range: would throw
    [InlineData(6, 4102444800000L)] // loaded in 2100, long after it was stored
    public void Deserialize_TimesOutOfOrderOrRange_IsAbsent(int offset, long value)
    {
        var bytes = Encoded("{}"u8.ToArray());
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(offset), value);

        Assert.Null(Decode(bytes));
    }

    [Fact]
    public void Deserialize_EagerExpirationOutsideTheEntrysLife_IsAbsent()
    {
        var bytes = new CachedResponseSerializer().Serialize(Entry("{}"u8.ToArray(), eager: Expires + 1));

        Assert.Null(Decode(bytes));
    }

    [Fact]
    public void Deserialize_Invalid_LoggedAtWarningThrottledTo1PerWindow()
    {
        var time = new FakeTimeProvider(LoadedAt);
        var logger = new FakeLogger<CachedResponseSerializer>();
        var serializer = new CachedResponseSerializer(long.MaxValue, time, logger);
        var forged = Encoded("""{"v":1},"meta":{}"""u8.ToArray());

        for (var i = 0; i < 100; i++)
        {
            Assert.Null(serializer.Deserialize<FusionCacheDistributedEntry<CachedResponse>>(forged));
        }

        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Null(serializer.Deserialize<FusionCacheDistributedEntry<CachedResponse>>(forged));

        Assert.Equal(2, logger.Collector.GetSnapshot().Count);
        Assert.All(logger.Collector.GetSnapshot(), e => Assert.Equal(("SharedResponseInvalid", LogLevel.Warning), (e.Id.Name, e.Level)));
        Assert.Contains("not one well-formed JSON value", logger.Collector.GetSnapshot()[0].Message, StringComparison.Ordinal);
        Assert.Contains("99 more", logger.Collector.GetSnapshot()[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Serialize_AnotherType_IsRefused() =>
        Assert.Throws<NotSupportedException>(() => new CachedResponseSerializer().Serialize("text"));

    private static byte[] Encoded(byte[] body) => new CachedResponseSerializer().Serialize(Entry(body));

    private static FusionCacheDistributedEntry<CachedResponse>? Decode(byte[] bytes, long maxBytes = long.MaxValue) =>
        new CachedResponseSerializer(maxBytes).Deserialize<FusionCacheDistributedEntry<CachedResponse>>(bytes);
}
