using Microsoft.Extensions.Caching.Distributed;
using StackExchange.Redis;

namespace Gateway.Caching.Redis;

/// <summary>
/// The response cache's distributed level, refusing at once while the shared connection is known to be down.
/// StackExchange.Redis would otherwise queue each command until its timeout, and every miss in memory would wait
/// for FusionCache's hard timeout; refused, FusionCache opens its circuit breaker and goes on without Redis.
/// </summary>
internal sealed class ConnectedOnlyDistributedCache(IDistributedCache inner, RedisConnection connection) : IDistributedCache
{
    public byte[]? Get(string key)
    {
        ThrowIfDown();
        return inner.Get(key);
    }

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        ThrowIfDown();
        return inner.GetAsync(key, token);
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        ThrowIfDown();
        inner.Set(key, value, options);
    }

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ThrowIfDown();
        return inner.SetAsync(key, value, options, token);
    }

    public void Refresh(string key)
    {
        ThrowIfDown();
        inner.Refresh(key);
    }

    public Task RefreshAsync(string key, CancellationToken token = default)
    {
        ThrowIfDown();
        return inner.RefreshAsync(key, token);
    }

    public void Remove(string key)
    {
        ThrowIfDown();
        inner.Remove(key);
    }

    public Task RemoveAsync(string key, CancellationToken token = default)
    {
        ThrowIfDown();
        return inner.RemoveAsync(key, token);
    }

    // Before the first connection attempt has ended the state is unknown: the command goes ahead (bounded by FusionCache).
    private void ThrowIfDown()
    {
        if (connection.Current is { IsConnected: false })
        {
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is not connected");
        }
    }
}
