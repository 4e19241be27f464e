using StackExchange.Redis;

namespace Gateway.Caching.Redis;

/// <summary>
/// Datasets shared through Redis. Per dataset two keys: <c>gateway:cached-data:{name}:value</c> (the copy, see
/// <see cref="SharedValueCodec"/>, expiring when no instance would serve it any more) and
/// <c>gateway:cached-data:{name}:lease</c> (the id of the instance that refreshes it). Every write of the lease sets
/// its time to live (<c>SET ... PX</c>, <c>PEXPIRE</c>), in Lua scripts that compare before they write, so instances
/// racing for it cannot both win. The age of a value is read from its remaining time to live, so it is measured on
/// Redis's clock alone and instances whose clocks disagree still agree on it. Every command is bounded by the
/// connection's operation timeout.
/// </summary>
internal sealed class RedisDatasetStore(RedisConnection connection, string instanceId) : ISharedDatasetStore
{
    // Free, or there without a time to live (a stray key no gateway wrote: it would never lapse): take it, with one.
    private const string AcquireScript = "local left = redis.call('pttl', KEYS[1]) if left == -2 or left == -1 then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 else return 0 end";

    // Compare-and-set on the lease: only while the holder seen is still the holder.
    private const string TakeOverScript = "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 else return 0 end";

    // Only its holder may extend or release it.
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
        var lease = database.StringGetWithExpiryAsync(LeaseKey(dataset));
        await BoundedAsync(Task.WhenAll(value, lease), cancellationToken).ConfigureAwait(false);

        // Both have completed: awaiting them does not wait.
        var leaseRead = await lease.ConfigureAwait(false);
        var read = await value.ConfigureAwait(false);
        var (holder, leaseLeft) = leaseRead.Value.HasValue ? (leaseRead.Value.ToString(), leaseRead.Expiry) : (null, null);
        if (!read.Value.HasValue)
        {
            return new SharedState(null, TimeSpan.Zero, holder, leaseLeft);
        }

        var problem = Check((byte[])read.Value!, read.Expiry, out var shared, out var age);
        return problem is null
            ? new SharedState(shared, age, holder, leaseLeft)
            : new SharedState(null, TimeSpan.Zero, holder, leaseLeft, problem);
    }

    /// <summary>The format, then the time to live: a value no gateway wrote would otherwise look young for ever. Null when it passes.</summary>
    internal static string? Check(byte[] bytes, TimeSpan? left, out SharedValue value, out TimeSpan age)
    {
        age = TimeSpan.Zero;
        if (!SharedValueCodec.TryDecode(bytes, out value, out var ttl, out var problem))
        {
            return problem;
        }

        if (left is not { } remaining)
        {
            return "it has no time to live in Redis";
        }

        if (remaining > ttl)
        {
            return $"its time to live in Redis ({(long)remaining.TotalMilliseconds} ms) is longer than the {(long)ttl.TotalMilliseconds} ms it was written with";
        }

        age = ttl - remaining;
        return null;
    }

    public async Task<bool> TryAcquireLeaseAsync(string dataset, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var result = await BoundedAsync(
            database.ScriptEvaluateAsync(AcquireScript, [LeaseKey(dataset)], [InstanceId, Milliseconds(ttl)]),
            cancellationToken).ConfigureAwait(false);
        return (long)result == 1;
    }

    public async Task<bool> TakeOverLeaseAsync(string dataset, string holder, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var result = await BoundedAsync(
            database.ScriptEvaluateAsync(TakeOverScript, [LeaseKey(dataset)], [holder, InstanceId, Milliseconds(ttl)]),
            cancellationToken).ConfigureAwait(false);
        return (long)result == 1;
    }

    public async Task<bool> ExtendLeaseAsync(string dataset, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var result = await BoundedAsync(
            database.ScriptEvaluateAsync(ExtendScript, [LeaseKey(dataset)], [InstanceId, Milliseconds(ttl)]),
            cancellationToken).ConfigureAwait(false);
        return (long)result == 1;
    }

    public async Task<bool> ReleaseLeaseAsync(string dataset, CancellationToken cancellationToken)
    {
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var result = await BoundedAsync(database.ScriptEvaluateAsync(ReleaseScript, [LeaseKey(dataset)], [InstanceId]), cancellationToken).ConfigureAwait(false);
        return (long)result == 1;
    }

    public async Task WriteAsync(string dataset, SharedValue value, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await BoundedAsync(database.StringSetAsync(ValueKey(dataset), SharedValueCodec.Encode(value, ttl), ttl), cancellationToken).ConfigureAwait(false);
    }

    // PX must be at least 1 ms (0 is an error, and would mean a lease without a time to live to nobody).
    private static long Milliseconds(TimeSpan ttl) => Math.Max(1, (long)ttl.TotalMilliseconds);

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
