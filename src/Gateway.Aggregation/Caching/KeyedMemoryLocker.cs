using ZiggyCreatures.Caching.Fusion.Locking;

namespace Gateway.Caching;

/// <summary>
/// FusionCache's stampede lock, one per key, held only while someone holds or waits for it: an entry is made
/// when the first caller of a key asks and removed when the last one releases or gives up. So the table holds
/// the keys being called right now, bounded by the calls in flight, whatever the number of distinct keys seen.
/// (FusionCache's default keeps a semaphore per key ever seen in an unbounded MemoryCache for 5 minutes of
/// sliding expiry; its probabilistic pool, not public in 2.9, lets unrelated keys wait for each other.)
/// </summary>
internal sealed class KeyedMemoryLocker : IFusionCacheMemoryLocker
{
    private readonly Dictionary<string, Gate> _gates = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Keys with a holder or a waiter now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _gates.Count;
            }
        }
    }

    public async ValueTask<object?> AcquireLockAsync(string cacheName, string cacheInstanceId, string operationId, string key, TimeSpan timeout, ILogger? logger, CancellationToken token)
    {
        var gate = Enter(key);
        var acquired = false;
        try
        {
            acquired = await gate.Semaphore.WaitAsync(timeout, token).ConfigureAwait(false);
        }
        finally
        {
            if (!acquired)
            {
                Leave(key, gate);
            }
        }

        return acquired ? gate : null;
    }

    public object? AcquireLock(string cacheName, string cacheInstanceId, string operationId, string key, TimeSpan timeout, ILogger? logger, CancellationToken token)
    {
        var gate = Enter(key);
        var acquired = false;
        try
        {
            acquired = gate.Semaphore.Wait(timeout, token);
        }
        finally
        {
            if (!acquired)
            {
                Leave(key, gate);
            }
        }

        return acquired ? gate : null;
    }

    public void ReleaseLock(string cacheName, string cacheInstanceId, string operationId, string key, object? lockObj, ILogger? logger)
    {
        if (lockObj is Gate gate)
        {
            gate.Semaphore.Release();
            Leave(key, gate);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _gates.Clear();
        }
    }

    private Gate Enter(string key)
    {
        lock (_lock)
        {
            if (!_gates.TryGetValue(key, out var gate))
            {
                gate = new Gate();
                _gates.Add(key, gate);
            }

            gate.Users++;
            return gate;
        }
    }

    private void Leave(string key, Gate gate)
    {
        lock (_lock)
        {
            // The semaphore is not disposed: it has no wait handle, and a caller may still be returning from it.
            if (--gate.Users == 0 && _gates.TryGetValue(key, out var current) && ReferenceEquals(current, gate))
            {
                _gates.Remove(key);
            }
        }
    }

    /// <summary>One key's lock and how many hold or wait for it (changed under the table's lock only).</summary>
    private sealed class Gate
    {
        public SemaphoreSlim Semaphore { get; } = new(1, 1);

        public int Users { get; set; }
    }
}
