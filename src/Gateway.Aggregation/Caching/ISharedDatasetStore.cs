namespace Gateway.Caching;

/// <summary>
/// Where gateway instances share their datasets (Redis, when <c>Gateway:Cache:Redis</c> is set): per dataset one
/// value (the last good copy) and one lease (which instance refreshes it). Any method may throw when the store is
/// unreachable or slow; the caller then works on its own, as without a store. Every lease the store writes has a
/// time to live.
/// </summary>
internal interface ISharedDatasetStore
{
    /// <summary>This instance, as its leases and values name it.</summary>
    string InstanceId { get; }

    /// <summary>False while the store is known to be unreachable: the caller does not even try (no timeout to wait out).</summary>
    bool IsAvailable { get; }

    /// <summary>
    /// The shared value (with its age, on the store's clock) and who holds the lease (with its time left), in one
    /// round trip. A stored value that fails the format checks comes back as no value, with <see cref="SharedState.Invalid"/> saying why.
    /// </summary>
    Task<SharedState> ReadAsync(string dataset, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the lease for <paramref name="ttl"/> when nobody holds it, or when the lease there has no time to live
    /// (no gateway writes one: it would never lapse); atomically, so of instances racing for it one wins.
    /// </summary>
    Task<bool> TryAcquireLeaseAsync(string dataset, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Takes the lease over for <paramref name="ttl"/>, only while <paramref name="holder"/> still holds it (compare-and-set).</summary>
    Task<bool> TakeOverLeaseAsync(string dataset, string holder, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Extends the lease to <paramref name="ttl"/> from now, only while this instance still holds it.</summary>
    Task<bool> ExtendLeaseAsync(string dataset, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Gives the lease up, only when this instance holds it; true when it did.</summary>
    Task<bool> ReleaseLeaseAsync(string dataset, CancellationToken cancellationToken);

    /// <summary>Replaces the shared value; it expires after <paramref name="ttl"/> (when no instance would serve it any more).</summary>
    Task WriteAsync(string dataset, SharedValue value, TimeSpan ttl, CancellationToken cancellationToken);
}

/// <summary>A dataset's copy as instances share it: the body, the downstream's status, when it loaded (Unix ms, for display and identity) and which instance loaded it.</summary>
internal sealed record SharedValue(byte[] Body, int Status, long LoadedAtUnixMs, string Writer);

/// <summary>
/// What the store holds for a dataset: the value (null when none, or when it is invalid) and its age; the lease
/// holder (null when free) and its time left (null when free or when the lease has no time to live); and, when a
/// value was there but failed the format checks, why.
/// </summary>
internal readonly record struct SharedState(SharedValue? Value, TimeSpan Age, string? LeaseHolder, TimeSpan? LeaseLeft = null, string? Invalid = null)
{
    /// <summary>A lease is there but would never lapse: no gateway wrote it so (a stray key); it counts as free.</summary>
    public bool LeaseWithoutTtl => LeaseHolder is not null && LeaseLeft is null;
}
