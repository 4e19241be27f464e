using System.Buffers;
using System.Text;
using Gateway.Caching;
using Gateway.Downstream;
using Gateway.Model;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Caching;

/// <summary>The response cache's bodies are pooled and counted: reused once evicted, never while a request still writes one.</summary>
public sealed class ResponseCacheBodyTests
{
    private const int BodyBytes = 1000;

    // Room for four entries (a 1,000-byte body takes a 1,024-byte buffer) and no fifth.
    private static readonly long MaxBytes = 4 * CachedResponse.Charge(BodyBytes);

    private static readonly ResponseCachePolicy Policy = new(TimeSpan.FromMinutes(5), TimeSpan.Zero, TimeSpan.Zero, [], cacheAuthorized: false);

    [Fact]
    public async Task Evicted_WhileARequestStillWritesIt_ItsBytesAreNeverOverwritten()
    {
        using var cache = new ResponseCache(MaxBytes, TimeProvider.System, NullLogger<ResponseCache>.Instance);

        // A request reads k0 and is slow to write it (a slow client): it holds the body until it has written it.
        var slow = await GetAsync(cache, 0);
        var expected = Body(0);
        Assert.Equal(expected, slow.Body!.Span.ToArray());

        // Meanwhile 40 other keys are stored: k0 is evicted, and every evicted buffer goes back to the pool and is
        // written again by the next key stored. The one k0's request holds must not be among them.
        for (var i = 1; i <= 40; i++)
        {
            (await GetAsync(cache, i)).Body!.Release();
        }

        Assert.Equal(expected, slow.Body!.Span.ToArray());
        Assert.InRange(cache.Count, 1, 4);

        // Once written, its buffer goes back to the pool: the next key stored takes it instead of a new one.
        slow.Body!.Release();
        var allocated = cache.Pool.Allocated;
        (await GetAsync(cache, 41)).Body!.Release();
        Assert.Equal(allocated, cache.Pool.Allocated);
    }

    [Fact]
    public async Task DistinctKeys_EvictedBuffersAreReused_NotLeftToTheGC()
    {
        using var cache = new ResponseCache(MaxBytes, TimeProvider.System, NullLogger<ResponseCache>.Instance);

        for (var i = 0; i < 1_000; i++)
        {
            var result = await GetAsync(cache, i);
            Assert.Equal(Body(i), result.Body!.Span.ToArray());
            result.Body!.Release();
        }

        // Four held by the cache and at most one in flight: 1,000 stores took few buffers, not one each.
        Assert.InRange(cache.Pool.Allocated, 4, 6);
        Assert.InRange(cache.Bytes, 1, MaxBytes);
    }

    [Fact]
    public async Task Hit_EachReaderHoldsTheBody_ItIsReusedOnlyAfterTheLastOneAndTheEntryLetGo()
    {
        using var cache = new ResponseCache(MaxBytes, TimeProvider.System, NullLogger<ResponseCache>.Instance);
        var first = await GetAsync(cache, 0);
        var second = await GetAsync(cache, 0);
        Assert.True(second.CacheHit);
        var body = Assert.IsType<CountedBody>(first.Body);
        Assert.Same(body, second.Body);

        for (var i = 1; i <= 8; i++)
        {
            (await GetAsync(cache, i)).Body!.Release();
        }

        first.Body!.Release();
        Assert.False(body.IsGone);
        second.Body!.Release();
        Assert.True(body.IsGone);
        Assert.False(body.TryRetain());
    }

    [Fact]
    public void Pool_SizesAreRoundedToAQuarterOfAPowerOfTwo_AndItsFreeBuffersBounded()
    {
        Assert.Equal(256, CachedBodyPool.BufferSize(1));
        Assert.Equal(16_384, CachedBodyPool.BufferSize(16_384));
        Assert.Equal(20_480, CachedBodyPool.BufferSize(16_385));
        Assert.Equal(1_280, CachedBodyPool.BufferSize(1_025));

        var pool = new CachedBodyPool(maxFreeBytes: 2 * 1024);
        var bodies = Enumerable.Range(0, 3).Select(_ => pool.Store(new byte[BodyBytes])).ToList();
        bodies.ForEach(b => b.Release());

        Assert.Equal(2 * 1024, pool.FreeBytes);
    }

    private static Task<SourceResult> GetAsync(ResponseCache cache, int key) =>
        cache.GetAsync($"items:{key}", Policy, new Call(key), 0, TimeSpan.FromSeconds(10), CancellationToken.None);

    // A JSON string of BodyBytes bytes, different for every key.
    private static byte[] Body(int key) => Encoding.UTF8.GetBytes("\"" + key.ToString("D6", System.Globalization.CultureInfo.InvariantCulture).PadRight(BodyBytes - 2, (char)('a' + (key % 26))) + "\"");

    private sealed class Call(int key) : ICachedCall
    {
        public string Name => "item";

        public Task<CallAnswer> CallAsync()
        {
            var json = Body(key);
            var buffer = ArrayPool<byte>.Shared.Rent(json.Length);
            json.CopyTo(buffer, 0);
            return Task.FromResult<CallAnswer>(SourceResult.Ok(200, 1, new PooledBody(buffer, 0, json.Length)));
        }
    }
}
