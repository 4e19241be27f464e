using Gateway.Model;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Primitives;

namespace Gateway.Caching;

/// <summary>
/// The memory level under FusionCache: bounded by the sum of the entries' <see cref="ICacheEntry.Size"/>, the
/// least recently read or written entry evicted first, at once, when an entry is added. (The framework's
/// <see cref="MemoryCache"/> with a size limit refuses the new entry and compacts later on another thread,
/// which is neither LRU nor a bound at every moment.) Honours absolute expiration, read on the wall clock,
/// which FusionCache computes with; sliding expiration, tokens, priorities and eviction callbacks are not
/// used by FusionCache and not supported. Each entry's value may be held while it is in the cache
/// (<see cref="IEntryHolds"/>): taken when the entry is added, let go when it is removed, evicted or replaced.
/// </summary>
internal sealed class LruMemoryCache(long maxBytes, TimeProvider wallClock, IEntryHolds? holds = null) : IMemoryCache
{
    private readonly Dictionary<object, LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _recency = new();
    private readonly Lock _lock = new();
    private long _bytes;

    public long MaxBytes => maxBytes;

    /// <summary>Bytes charged to the entries held now.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    public ICacheEntry CreateEntry(object key) => new Entry(this, key);

    public bool TryGetValue(object key, out object? value)
    {
        var now = wallClock.GetUtcNow();
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                if (node.Value.ExpiresAt is { } expires && expires <= now)
                {
                    RemoveNode(node);
                }
                else
                {
                    _recency.Remove(node);
                    _recency.AddFirst(node);
                    value = node.Value.Value;
                    return true;
                }
            }
        }

        value = null;
        return false;
    }

    public void Remove(object key)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                RemoveNode(node);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            while (_recency.Last is { } last)
            {
                RemoveNode(last);
            }
        }
    }

    private void Commit(Entry entry)
    {
        var now = wallClock.GetUtcNow();
        entry.ExpiresAt = entry.AbsoluteExpirationRelativeToNow is { } relative ? now + relative : entry.AbsoluteExpiration;
        var size = entry.Size ?? 0;
        lock (_lock)
        {
            // An entry larger than the whole cache is not kept (it would evict everything and then itself). The new
            // value is held before the old one is let go: they may be the same answer, stored again.
            StoredBody? held = null;
            var kept = size <= maxBytes && !(entry.ExpiresAt <= now) && (holds is null || holds.TryHold(entry.Value, out held));
            entry.Held = held;
            if (_entries.TryGetValue(entry.Key, out var old))
            {
                RemoveNode(old);
            }

            if (!kept)
            {
                return;
            }

            _entries[entry.Key] = _recency.AddFirst(entry);
            _bytes += size;
            while (_bytes > maxBytes && _recency.Last is { } last)
            {
                RemoveNode(last);
            }
        }
    }

    private void RemoveNode(LinkedListNode<Entry> node)
    {
        _entries.Remove(node.Value.Key);
        _recency.Remove(node);
        _bytes -= node.Value.Size ?? 0;
        node.Value.Held?.Release();
    }

    /// <summary>An entry being built; <see cref="Dispose"/> adds it, as with the framework's cache.</summary>
    private sealed class Entry(LruMemoryCache owner, object key) : ICacheEntry
    {
        private bool _committed;

        public object Key { get; } = key;

        public object? Value { get; set; }

        public DateTimeOffset? AbsoluteExpiration { get; set; }

        public TimeSpan? AbsoluteExpirationRelativeToNow { get; set; }

        public TimeSpan? SlidingExpiration { get; set; }

        public IList<IChangeToken> ExpirationTokens { get; } = [];

        public IList<PostEvictionCallbackRegistration> PostEvictionCallbacks { get; } = [];

        public CacheItemPriority Priority { get; set; } = CacheItemPriority.Normal;

        public long? Size { get; set; }

        public DateTimeOffset? ExpiresAt { get; set; }

        /// <summary>What this entry holds while it is in the cache (given back when it leaves, whatever its value is by then).</summary>
        public StoredBody? Held { get; set; }

        public void Dispose()
        {
            if (!_committed)
            {
                _committed = true;
                owner.Commit(this);
            }
        }
    }
}

/// <summary>What an <see cref="LruMemoryCache"/> entry holds of its value while it is in the cache.</summary>
internal interface IEntryHolds
{
    /// <summary>
    /// Takes the entry's hold on what <paramref name="value"/> stores (<paramref name="held"/>, released when the entry
    /// leaves the cache; none when it stores nothing counted); false when that is gone and the entry must not be kept.
    /// </summary>
    bool TryHold(object? value, out StoredBody? held);
}
