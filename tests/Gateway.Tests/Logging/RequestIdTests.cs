using Gateway.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Logging;

public sealed class RequestIdTests
{
    [Theory]
    [InlineData("abc")]
    [InlineData("0af7651916cd43dd8448eb211c80319c")]
    [InlineData("3f2b1c9e-8a4d-4e1f-9b2a-7c6d5e4f3a2b")]
    [InlineData("01HZX3Q7K8M9N0P1R2S3T4V5W6")]
    [InlineData("dGVzdA+/==")]
    [InlineData("host:pid_1.2")]
    public void Problem_WellFormedId_IsNone(string id) => Assert.Null(RequestId.Problem(new StringValues(id)));

    [Fact]
    public void Problem_MaxLengthAndOneMore_OnlyTheLongerIsRefused()
    {
        Assert.Null(RequestId.Problem(new StringValues(new string('a', RequestId.MaxLength))));
        Assert.Contains("longer than 128", RequestId.Problem(new StringValues(new string('a', RequestId.MaxLength + 1))), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("a\tb")]
    [InlineData("a\u0001b")]
    [InlineData("a\u007fb")]
    [InlineData("a\r\nX-Injected: 1")]
    [InlineData("a,b")]
    [InlineData("a;b")]
    [InlineData("\"quoted\"")]
    [InlineData("<script>")]
    [InlineData("zoë")]
    [InlineData("a\u2028b")]
    [InlineData("{Aggregate}")]
    public void Problem_MalformedId_IsNamed(string id) => Assert.NotNull(RequestId.Problem(new StringValues(id)));

    [Fact]
    public void Problem_AbsentOrSeveralValues_IsNamed()
    {
        Assert.Equal("absent", RequestId.Problem(StringValues.Empty));
        Assert.Equal("several values", RequestId.Problem(new StringValues(["a", "b"])));
    }

    [Fact]
    public void Generate_TwoIds_AreWellFormedDifferentAndOrderedByTime()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

        var first = RequestId.Generate(time);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var second = RequestId.Generate(time);

        Assert.Matches("^[0-9a-f]{32}$", first);
        Assert.Null(RequestId.Problem(new StringValues(first)));
        Assert.NotEqual(first, second);
        Assert.True(string.CompareOrdinal(first, second) < 0, $"{first} !< {second}");
        // A version 7 UUID carries the time it was made: the first 48 bits are Unix milliseconds.
        Assert.Equal(time.GetUtcNow().ToUnixTimeMilliseconds(), Convert.ToInt64(second[..12], 16));
    }

    [Fact]
    public void Generate_ManyIds_AreVersion7UuidsWithTheirRandomBitsSet()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));

        var ids = Enumerable.Range(0, 2_000).Select(_ => RequestId.Generate(time)).ToList();

        // All made in the same millisecond: only the random bits tell them apart.
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var id in ids)
        {
            var uuid = Guid.ParseExact(id, "N");
            Assert.Equal(7, uuid.Version);
            Assert.Equal(0b10, uuid.Variant >> 2);   // RFC 9562's variant: the top two bits 10
        }

        // Every random bit varies across the ids (rand_a: digits 13-15; rand_b: 62 bits from digit 17 on).
        var randA = ids.Select(id => Convert.ToUInt64(id[13..16], 16)).Aggregate(0UL, (seen, bits) => seen | bits);
        var randB = ids.Select(id => Convert.ToUInt64(id[16..], 16) & 0x3FFF_FFFF_FFFF_FFFFUL).Aggregate(0UL, (seen, bits) => seen | bits);
        Assert.Equal(0xFFFUL, randA);
        Assert.Equal(0x3FFF_FFFF_FFFF_FFFFUL, randB);
    }
}
