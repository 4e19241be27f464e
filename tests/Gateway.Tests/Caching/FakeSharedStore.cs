using Gateway.Caching;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Caching;

/// <summary>
/// A shared store in memory on fake time, with Redis's semantics for what the sharing uses: keys that expire (or,
/// written by hand, never do), the acquiring and compare-and-set scripts on the lease. Another instance is played by
/// writing to it directly.
/// </summary>
internal sealed class FakeSharedStore(FakeTimeProvider time, string instanceId = "me") : ISharedDatasetStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (SharedValue Value, DateTimeOffset WrittenAt, DateTimeOffset ExpiresAt)> _values = [];
    private readonly Dictionary<string, (string Holder, DateTimeOffset ExpiresAt)> _leases = [];
    private readonly Dictionary<string, string> _corrupt = [];
    private int _operations;

    public string InstanceId { get; } = instanceId;

    public bool IsAvailable { get; set; } = true;

    /// <summary>Every operation throws (a Redis that times out).</summary>
    public bool Failing { get; set; }

    public int Operations => Volatile.Read(ref _operations);

    public int Writes { get; private set; }

    /// <summary>How often this instance gave a lease up.</summary>
    public int Releases { get; private set; }

    public TimeSpan? LastWriteTtl { get; private set; }

    /// <summary>Another instance wrote <paramref name="body"/> <paramref name="age"/> ago.</summary>
    public void Put(string dataset, string body, TimeSpan age, TimeSpan ttl, string writer = "other")
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            _corrupt.Remove(dataset);
            _values[dataset] = (new SharedValue(System.Text.Encoding.UTF8.GetBytes(body), 200, (now - age).ToUnixTimeMilliseconds(), writer), now - age, now - age + ttl);
        }
    }

    /// <summary>A value is there that fails the store's format checks for <paramref name="problem"/>.</summary>
    public void Corrupt(string dataset, string problem)
    {
        lock (_lock)
        {
            _values.Remove(dataset);
            _corrupt[dataset] = problem;
        }
    }

    /// <summary>A lease without a time to live (set by hand: it never lapses).</summary>
    public void StrayLease(string dataset, string holder)
    {
        lock (_lock)
        {
            _leases[dataset] = (holder, DateTimeOffset.MaxValue);
        }
    }

    /// <summary>Another instance holds the lease for <paramref name="ttl"/> from now.</summary>
    public void Lease(string dataset, string holder, TimeSpan ttl)
    {
        lock (_lock)
        {
            _leases[dataset] = (holder, time.GetUtcNow() + ttl);
        }
    }

    public string? LeaseHolder(string dataset)
    {
        lock (_lock)
        {
            return Live(_leases, dataset, l => l.ExpiresAt) is { } lease ? lease.Holder : null;
        }
    }

    public TimeSpan? LeaseLeft(string dataset)
    {
        lock (_lock)
        {
            return Live(_leases, dataset, l => l.ExpiresAt) is { } lease && lease.ExpiresAt != DateTimeOffset.MaxValue ? lease.ExpiresAt - time.GetUtcNow() : null;
        }
    }

    public SharedValue? Value(string dataset)
    {
        lock (_lock)
        {
            return Live(_values, dataset, v => v.ExpiresAt)?.Value;
        }
    }

    public Task<SharedState> ReadAsync(string dataset, CancellationToken cancellationToken)
    {
        Enter();
        lock (_lock)
        {
            var value = Live(_values, dataset, v => v.ExpiresAt);
            var lease = Live(_leases, dataset, l => l.ExpiresAt);
            TimeSpan? leaseLeft = lease is { } l && l.ExpiresAt != DateTimeOffset.MaxValue ? l.ExpiresAt - time.GetUtcNow() : null;
            return Task.FromResult(new SharedState(
                value?.Value,
                value is { } v ? time.GetUtcNow() - v.WrittenAt : TimeSpan.Zero,
                lease?.Holder,
                leaseLeft,
                value is null && _corrupt.TryGetValue(dataset, out var problem) ? problem : null));
        }
    }

    public Task<bool> TryAcquireLeaseAsync(string dataset, TimeSpan ttl, CancellationToken cancellationToken)
    {
        Enter();
        lock (_lock)
        {
            if (Live(_leases, dataset, l => l.ExpiresAt) is { } lease && lease.ExpiresAt != DateTimeOffset.MaxValue)
            {
                return Task.FromResult(false);
            }

            _leases[dataset] = (InstanceId, time.GetUtcNow() + ttl);
            return Task.FromResult(true);
        }
    }

    public Task<bool> TakeOverLeaseAsync(string dataset, string holder, TimeSpan ttl, CancellationToken cancellationToken)
    {
        Enter();
        lock (_lock)
        {
            if (Live(_leases, dataset, l => l.ExpiresAt) is not { } lease || lease.Holder != holder)
            {
                return Task.FromResult(false);
            }

            _leases[dataset] = (InstanceId, time.GetUtcNow() + ttl);
            return Task.FromResult(true);
        }
    }

    public Task<bool> ExtendLeaseAsync(string dataset, TimeSpan ttl, CancellationToken cancellationToken)
    {
        Enter();
        lock (_lock)
        {
            if (Live(_leases, dataset, l => l.ExpiresAt) is not { } lease || lease.Holder != InstanceId)
            {
                return Task.FromResult(false);
            }

            _leases[dataset] = (InstanceId, time.GetUtcNow() + ttl);
            return Task.FromResult(true);
        }
    }

    public Task<bool> ReleaseLeaseAsync(string dataset, CancellationToken cancellationToken)
    {
        Enter();
        lock (_lock)
        {
            if (Live(_leases, dataset, l => l.ExpiresAt) is { } lease && lease.Holder == InstanceId)
            {
                _leases.Remove(dataset);
                Releases++;
                return Task.FromResult(true);
            }
        }

        return Task.FromResult(false);
    }

    public Task WriteAsync(string dataset, SharedValue value, TimeSpan ttl, CancellationToken cancellationToken)
    {
        Enter();
        lock (_lock)
        {
            var now = time.GetUtcNow();
            _values[dataset] = (value, now, now + ttl);
            _corrupt.Remove(dataset);
            Writes++;
            LastWriteTtl = ttl;
        }

        return Task.CompletedTask;
    }

    private void Enter()
    {
        Interlocked.Increment(ref _operations);
        if (Failing)
        {
            throw new TimeoutException("the fake Redis timed out");
        }
    }

    private T? Live<T>(Dictionary<string, T> entries, string key, Func<T, DateTimeOffset> expiresAt)
        where T : struct
    {
        if (entries.TryGetValue(key, out var entry) && expiresAt(entry) > time.GetUtcNow())
        {
            return entry;
        }

        entries.Remove(key);
        return null;
    }
}
