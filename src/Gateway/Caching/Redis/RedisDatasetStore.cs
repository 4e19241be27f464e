using StackExchange.Redis;

namespace Gateway.Caching.Redis;

/// <summary>
/// Datasets shared through Redis. Per dataset two keys: <c>gateway:cached-data:{name}:value</c> (the copy, see
/// <see cref="SharedValueCodec"/>, expiring when no instance would serve it any more) and
/// <c>gateway:cached-data:{name}:lease</c> (the id of the instance that refreshes it, taken with <c>SET NX PX</c>).
/// The age of a value is read from its remaining time to live, so it is measured on Redis's clock alone and
/// instances whose clocks disagree still agree on it. Every command is bounded by the connection's operation timeout.
/// </summary>
internal sealed class RedisDatasetStore(RedisConnection connection, string instanceId) : ISharedDatasetStore
{
    // Compare-and-set on the lease: only its holder may extend or release it.
    private const string ExtendScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
    private const string ReleaseScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

    public string InstanceId { get; } = instanceId;

    public bool IsAvailable => connection.IsConnected || connection.Current is null;

    public static string ValueKey(string dataset) => $"gateway:cached-data:{dataset.ToLowerInvariant()}:value";

    public static string LeaseKey(string dataset) => $"gateway:cached-data:{dataset.ToLowerInvariant()}:lease";

    public async Task<SharedState> ReadAsync(string dataset, CancellationToken cancellationToken)
    {
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var value = database.StringGetWithExpiryAsync(ValueKey(dataset));
        var lease = database.StringGetAsync(LeaseKey(dataset));
        await BoundedAsync(Task.WhenAll(value, lease), cancellationToken).ConfigureAwait(false);

        // Both have completed: awaiting them does not wait.
        var leaseValue = await lease.ConfigureAwait(false);
        var read = await value.ConfigureAwait(false);
        string? holder = leaseValue.HasValue ? leaseValue.ToString() : null;
        var (stored, expiry) = (read.Value, read.Expiry);
        if (!stored.HasValue || !SharedValueCodec.TryDecode((byte[])stored!, out var shared, out var ttl))
        {
            return new SharedState(null, TimeSpan.Zero, holder);
        }

        var age = expiry is { } left ? ttl - left : TimeSpan.Zero;
        return new SharedState(shared, age < TimeSpan.Zero ? TimeSpan.Zero : age, holder);
    }

    public async Task<bool> TryAcquireLeaseAsync(string dataset, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        return await BoundedAsync(database.StringSetAsync(LeaseKey(dataset), InstanceId, ttl, When.NotExists), cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> ExtendLeaseAsync(string dataset, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var result = await BoundedAsync(
            database.ScriptEvaluateAsync(ExtendScript, [LeaseKey(dataset)], [InstanceId, (long)ttl.TotalMilliseconds]),
            cancellationToken).ConfigureAwait(false);
        return (long)result == 1;
    }

    public async Task ReleaseLeaseAsync(string dataset, CancellationToken cancellationToken)
    {
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await BoundedAsync(database.ScriptEvaluateAsync(ReleaseScript, [LeaseKey(dataset)], [InstanceId]), cancellationToken).ConfigureAwait(false);
    }

    public async Task WriteAsync(string dataset, SharedValue value, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await BoundedAsync(database.StringSetAsync(ValueKey(dataset), SharedValueCodec.Encode(value, ttl), ttl), cancellationToken).ConfigureAwait(false);
    }

    private async Task<IDatabase> DatabaseAsync(CancellationToken cancellationToken)
    {
        var multiplexer = await connection.ConnectAsync().WaitAsync(connection.OperationTimeout * 2, cancellationToken).ConfigureAwait(false);
        if (!multiplexer.IsConnected)
        {
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is not connected");
        }

        return multiplexer.GetDatabase();
    }

    // The library's own timeout (asyncTimeout) is checked on a timer of its own; this bound is the caller's, and shutdown's.
    private Task<T> BoundedAsync<T>(Task<T> task, CancellationToken cancellationToken) => task.WaitAsync(connection.OperationTimeout, cancellationToken);

    private Task BoundedAsync(Task task, CancellationToken cancellationToken) => task.WaitAsync(connection.OperationTimeout, cancellationToken);
}
