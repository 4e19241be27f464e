using System.Buffers;
using System.Text;
using Gateway.Caching;
using Gateway.Downstream;
using Gateway.Model;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Caching;

public sealed class KeyedMemoryLockerTests
{
    private static readonly TimeSpan Forever = Timeout.InfiniteTimeSpan;

    [Fact]
    public async Task Acquire_SameKey_SecondWaitsUntilTheFirstReleases()
    {
        using var locker = new KeyedMemoryLocker();
        var first = await AcquireAsync(locker, "k");

        var second = AcquireAsync(locker, "k").AsTask();
        await Task.Delay(50);
        Assert.False(second.IsCompleted);

        locker.ReleaseLock("c", "i", "o", "k", first, null);
        var held = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(held);
        locker.ReleaseLock("c", "i", "o", "k", held, null);
        Assert.Equal(0, locker.Count);
    }

    [Fact]
    public async Task Acquire_OtherKey_NotBlockedByAHeldOne()
    {
        using var locker = new KeyedMemoryLocker();
        var a = await AcquireAsync(locker, "a");

        var b = await AcquireAsync(locker, "b").AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.NotNull(b);
        Assert.Equal(2, locker.Count);
        locker.ReleaseLock("c", "i", "o", "a", a, null);
        locker.ReleaseLock("c", "i", "o", "b", b, null);
        Assert.Equal(0, locker.Count);
    }

    [Fact]
    public async Task Acquire_TimesOutOrIsCancelled_LeavesNoEntryBehind()
    {
        using var locker = new KeyedMemoryLocker();
        var held = await AcquireAsync(locker, "k");

        Assert.Null(await locker.AcquireLockAsync("c", "i", "o", "k", TimeSpan.Zero, null, CancellationToken.None));
        using var cancel = new CancellationTokenSource();
        var waiting = locker.AcquireLockAsync("c", "i", "o", "k", Forever, null, cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(1, locker.Count);

        locker.ReleaseLock("c", "i", "o", "k", held, null);
        Assert.Equal(0, locker.Count);
    }

    [Fact]
    public void AcquireSync_TimesOut_LeavesNoEntryBehind()
    {
        using var locker = new KeyedMemoryLocker();
        var held = locker.AcquireLock("c", "i", "o", "k", Forever, null, CancellationToken.None);

        Assert.Null(locker.AcquireLock("c", "i", "o", "k", TimeSpan.FromMilliseconds(1), null, CancellationToken.None));
        Assert.Equal(1, locker.Count);

        locker.ReleaseLock("c", "i", "o", "k", held, null);
        Assert.Equal(0, locker.Count);
    }

    [Fact]
    public async Task Acquire_10000DistinctKeys_NoEntryLeftOnceReleased()
    {
        using var locker = new KeyedMemoryLocker();

        for (var i = 0; i < 10_000; i++)
        {
            var key = $"key{i}";
            locker.ReleaseLock("c", "i", "o", key, await AcquireAsync(locker, key), null);
        }

        Assert.Equal(0, locker.Count);
    }

    [Fact]
    public async Task ResponseCache_5000DistinctKeysAnsweredAndPassedThrough_NoLockEntryLeft_MemoryWithinMaxBytes()
    {
        using var cache = new ResponseCache(8 * 1024, TimeProvider.System, NullLogger<ResponseCache>.Instance);
        var policy = new ResponseCachePolicy(TimeSpan.FromMinutes(5), TimeSpan.Zero, TimeSpan.Zero, [], cacheAuthorized: false);

        for (var i = 0; i < 5_000; i++)
        {
            var result = await cache.GetAsync($"items:{i}", policy, new Call(i % 4 == 0 ? 404 : 200), 0, TimeSpan.FromSeconds(10), CancellationToken.None);
            result.Body?.Release();
        }

        Assert.Equal(0, cache.LockCount);
        Assert.InRange(cache.Bytes, 1, 8 * 1024);
    }

    private static ValueTask<object?> AcquireAsync(KeyedMemoryLocker locker, string key) =>
        locker.AcquireLockAsync("c", "i", "o", key, Forever, null, CancellationToken.None);

    private sealed class Call(int status) : ICachedCall
    {
        public string Name => "item";

        public Task<CallAnswer> CallAsync()
        {
            if (status != 200)
            {
                return Task.FromResult<CallAnswer>(SourceResult.Failed(SourceOutcome.HttpStatus, 1, "not found", status));
            }

            var json = Encoding.UTF8.GetBytes("""{"v":1}""");
            var buffer = ArrayPool<byte>.Shared.Rent(json.Length);
            json.CopyTo(buffer, 0);
            return Task.FromResult<CallAnswer>(SourceResult.Ok(200, 1, new PooledBody(buffer, 0, json.Length)));
        }
    }
}
