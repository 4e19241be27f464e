using Gateway.Caching;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Caching;

public sealed class LruMemoryCacheTests
{
    private readonly FakeTimeProvider _time = new();

    private static void Set(LruMemoryCache cache, string key, long size, TimeSpan? expiresIn = null)
    {
        using var entry = cache.CreateEntry(key);
        entry.Value = key;
        entry.Size = size;
        entry.AbsoluteExpirationRelativeToNow = expiresIn;
    }

    [Fact]
    public void Set_PastMaxBytes_LeastRecentlyUsedEvictedAtOnce()
    {
        var cache = new LruMemoryCache(300, _time);
        Set(cache, "a", 100);
        Set(cache, "b", 100);
        Set(cache, "c", 100);
        Assert.True(cache.TryGetValue("a", out _)); // a is now the most recent; b the least

        Set(cache, "d", 100);

        Assert.False(cache.TryGetValue("b", out _));
        Assert.True(cache.TryGetValue("a", out _));
        Assert.True(cache.TryGetValue("c", out _));
        Assert.True(cache.TryGetValue("d", out _));
        Assert.Equal(300, cache.Bytes);
    }

    [Fact]
    public void Set_EntryLargerThanTheCache_NotKeptAndNothingEvicted()
    {
        var cache = new LruMemoryCache(300, _time);
        Set(cache, "a", 100);

        Set(cache, "huge", 301);

        Assert.False(cache.TryGetValue("huge", out _));
        Assert.True(cache.TryGetValue("a", out _));
        Assert.Equal(100, cache.Bytes);
    }

    [Fact]
    public void Set_SameKeyAgain_ReplacesAndRecountsBytes()
    {
        var cache = new LruMemoryCache(1000, _time);
        Set(cache, "a", 100);
        Set(cache, "a", 250);

        Assert.Equal(1, cache.Count);
        Assert.Equal(250, cache.Bytes);
        cache.Remove("a");
        Assert.Equal(0, cache.Bytes);
    }

    [Fact]
    public void TryGetValue_PastAbsoluteExpiration_GoneAndBytesFreed()
    {
        var cache = new LruMemoryCache(1000, _time);
        Set(cache, "a", 100, TimeSpan.FromSeconds(10));

        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.True(cache.TryGetValue("a", out _));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(cache.TryGetValue("a", out _));
        Assert.Equal(0, cache.Bytes);
    }
}
