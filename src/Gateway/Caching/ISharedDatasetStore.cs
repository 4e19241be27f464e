namespace Gateway.Caching;

/// <summary>
/// Where gateway instances share their datasets (Redis, when <c>Gateway:Cache:Redis</c> is set): per dataset one
/// value (the last good copy) and one lease (which instance refreshes it). Any method may throw when the store is
/// unreachable or slow; the caller then works on its own, as without a store.
/// </summary>
internal interface ISharedDatasetStore
{
    /// <summary>This instance, as its leases and values name it.</summary>
    string InstanceId { get; }

    /// <summary>False while the store is known to be unreachable: the caller does not even try (no timeout to wait out).</summary>
    bool IsAvailable { get; }

    /// <summary>The shared value (with its age, on the store's clock) and who holds the lease, in one round trip.</summary>
    Task<SharedState> ReadAsync(string dataset, CancellationToken cancellationToken);

    /// <summary>Takes the lease for <paramref name="ttl"/> when nobody holds it (<c>SET NX PX</c>).</summary>
    Task<bool> TryAcquireLeaseAsync(string dataset, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Extends the lease to <paramref name="ttl"/> from now, only while this instance still holds it.</summary>
    Task<bool> ExtendLeaseAsync(string dataset, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Gives the lease up, only when this instance holds it.</summary>
    Task ReleaseLeaseAsync(string dataset, CancellationToken cancellationToken);

    /// <summary>Replaces the shared value; it expires after <paramref name="ttl"/> (when no instance would serve it any more).</summary>
    Task WriteAsync(string dataset, SharedValue value, TimeSpan ttl, CancellationToken cancellationToken);
}

/// <summary>A dataset's copy as instances share it: the body, the downstream's status, when it loaded (Unix ms, for display and identity) and which instance loaded it.</summary>
internal sealed record SharedValue(byte[] Body, int Status, long LoadedAtUnixMs, string Writer);

/// <summary>What the store holds for a dataset: the value (null when none) and its age, and the lease holder (null when free).</summary>
internal readonly record struct SharedState(SharedValue? Value, TimeSpan Age, string? LeaseHolder);
