using System.Reflection;
using Gateway.Downstream;
using Gateway.Model;
using Microsoft.Extensions.Options;
using ZiggyCreatures.Caching.Fusion;

namespace Gateway.Caching;

/// <summary>
/// The per-source response cache: FusionCache (stampede protection, eager refresh, fail-safe) over a
/// byte-bounded LRU memory level. One instance serves every aggregate; keys start with the cluster id.
/// </summary>
internal sealed class ResponseCache : IDisposable
{
    /// <summary>How many times a request reads a key again when the body it found was evicted and reused before it took it.</summary>
    private const int ReadsOfAGoneBody = 3;

    private readonly FusionCache _cache;
    private readonly LruMemoryCache _memory;
    private readonly CachedBodyPool _pool;
    private readonly KeyedMemoryLocker _locker = new();
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    /// <param name="maxBytes">Memory bound of the stored answers (<c>Gateway:Cache:MaxBytes</c>).</param>
    /// <param name="timeProvider">Ages (<c>ageMs</c>, fresh or stale); FusionCache itself reads the system clock.</param>
    /// <param name="sharing">Where a distributed level and backplane (Redis) attach; none keeps everything in this process.</param>
    public ResponseCache(long maxBytes, TimeProvider timeProvider, ILogger<ResponseCache> logger, IResponseCacheSharing? sharing = null)
    {
        _timeProvider = timeProvider;
        _logger = logger;
        // Evicted bodies are reused for the next ones stored (each store evicts about what it adds, so few wait); at most a
        // quarter of MaxBytes waits free, past that a buffer goes to the GC.
        _pool = new CachedBodyPool(maxBytes / 4);
        // FusionCache takes no TimeProvider: its expirations are on DateTimeOffset.UtcNow, and so is the LRU's check of them.
        _memory = new LruMemoryCache(maxBytes, TimeProvider.System, EntryHolds.Instance);
        var options = new FusionCacheOptions
        {
            CacheName = "gateway-responses",
            // No tags and no Clear: without this every first read asks the memory level and Redis for FusionCache's
            // clear-marker entries, which the gateway never writes.
            DisableTagging = true,
        };
        sharing?.Configure(options);

        // Our locker, not FusionCache's default: that one keeps a lock per distinct key for minutes, outside MaxBytes.
        _cache = new FusionCache(Options.Create(options), _memory, sharing?.Logger, _locker);
        sharing?.Attach(_cache, maxBytes, timeProvider);
    }

    /// <summary>Bytes charged to the answers held now.</summary>
    public long Bytes => _memory.Bytes;

    public int Count => _memory.Count;

    /// <summary>Keys whose stampede lock is held or waited for now (bounded by the calls in flight, not by the keys seen).</summary>
    public int LockCount => _locker.Count;

    /// <summary>Where stored bodies' buffers come from and go back to.</summary>
    internal CachedBodyPool Pool => _pool;

    /// <summary>
    /// The answer for <paramref name="key"/>: stored and fresh, stale inside a window, or from
    /// <paramref name="call"/>, which runs once for all concurrent misses of the key under its own timeout.
    /// This caller waits at most <paramref name="maxWait"/> and until <paramref name="cancellationToken"/>
    /// (then <see cref="OperationCanceledException"/>); either only ends its wait: the call goes on for the others.
    /// </summary>
    public async Task<SourceResult> GetAsync(string key, ResponseCachePolicy policy, ICachedCall call, long started, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        for (var read = 1; ; read++)
        {
            var (response, failure, hit) = await ReadAsync(key, policy, call, maxWait, cancellationToken).ConfigureAwait(false);
            if (response is null)
            {
                return failure!;
            }

            if (response.Passed is { } passed)
            {
                return passed;
            }

            // The request holds the body until its answer is written (the envelope releases it); one the cache evicted and
            // reused in the microseconds since it was read is read again, and after a few such reads the call is made.
            var body = response.Body!;
            if (!body.TryRetain())
            {
                if (read < ReadsOfAGoneBody)
                {
                    continue;
                }

                return (await call.CallAsync().ConfigureAwait(false)).Result;
            }

            var elapsedMs = (long)_timeProvider.GetElapsedTime(started).TotalMilliseconds;
            var age = _timeProvider.GetUtcNow() - response.LoadedAt;
            var ageMs = Math.Max(0, (long)age.TotalMilliseconds);
            return SourceResult.Cached(response.Status, body, ageMs, age > policy.Ttl ? CacheState.Stale : CacheState.Fresh, elapsedMs, hit);
        }
    }

    /// <summary>One read of the cache: the stored or passed answer, or this caller's own failure.</summary>
    private async ValueTask<(CachedResponse? Response, SourceResult? Failure, bool Hit)> ReadAsync(string key, ResponseCachePolicy policy, ICachedCall call, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var flight = new Flight(this, call, policy);
        var pending = _cache.GetOrSetAsync<CachedResponse>(key, flight.RunAsync, policy.EntryOptions, CancellationToken.None);
        if (pending.IsCompletedSuccessfully)
        {
            // A hit: no timer, no task.
            return (pending.Result, null, true);
        }

        var task = pending.AsTask();
        using var wait = new CancellationTokenSource(maxWait, _timeProvider);
        using var link = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), wait);
        flight.Waiter = wait.Token;
        try
        {
            return (await task.WaitAsync(wait.Token).ConfigureAwait(false), null, false);
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
            // Leaving does not stop the call others wait for; a failure nobody awaits must not go unobserved.
            _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
        catch (Exception) when (flight.Failure is not null)
        {
            // This caller's own call failed and no stale answer stood in for it.
            return (null, flight.Failure, false);
        }
    }

    public void Dispose()
    {
        _cache.Dispose();
        _memory.Dispose();
        _locker.Dispose();
    }

    /// <summary>One caller's factory: FusionCache runs at most one per key at a time, and runs it in the background for an eager refresh.</summary>
    private sealed class Flight(ResponseCache owner, ICachedCall call, ResponseCachePolicy policy)
    {
        private CancellationToken _waiter;

        /// <summary>This caller's wait; set once it waits (a hit never does).</summary>
        public CancellationToken Waiter
        {
            get => _waiter;
            set => _waiter = value;
        }

        /// <summary>What this caller's own call failed with, when it failed.</summary>
        public SourceResult? Failure { get; private set; }

        public async Task<CachedResponse> RunAsync(FusionCacheFactoryExecutionContext<CachedResponse> context, CancellationToken cancellationToken)
        {
            // FusionCache hands a failed miss to the next waiter; one that already left (and has no stale answer
            // to refresh for others) does not call again for nobody.
            if (_waiter.IsCancellationRequested && !context.HasStaleValue)
            {
                throw new OperationCanceledException(_waiter);
            }

            var (result, storeForbidden) = await call.CallAsync().ConfigureAwait(false);
            if (result.IsOk && storeForbidden is not null && !policy.IgnoreCacheControl)
            {
                // The downstream said this answer is for one client or for no cache: it goes to this caller only,
                // and the copy stored before (if any) stays.
                context.Options.SkipMemoryCacheWrite = true;
                context.Options.SkipDistributedCacheWrite = true;
                return CachedResponse.PassThrough(result);
            }

            if (result.IsOk)
            {
                // Stored answers outlive the request: out of the request's buffer into one of the cache's own.
                var body = result.Body!;
                var stored = owner._pool.Store(body.Span);
                body.Release();
                context.Options.Size = CachedResponse.Charge(stored.Length);
                return CachedResponse.Stored(result.Status ?? 200, stored, owner._timeProvider.GetUtcNow());
            }

            if (result.Outcome == SourceOutcome.HttpStatus && result.Status is { } status && !DownstreamResponse.IsTransientStatus(status))
            {
                // An answer, not a failure: given to this caller, never stored, the stale copy (if any) kept.
                context.Options.SkipMemoryCacheWrite = true;
                context.Options.SkipDistributedCacheWrite = true;
                return CachedResponse.PassThrough(result);
            }

            Failure = result;
            if (context.HasStaleValue)
            {
                Log.CachedCallFailed(owner._logger, call.Name, result.Outcome.ToName(), result.Message ?? "");
            }

            // Fail-safe: the stale answer stands in when the policy's StaleIfError window allows; else FusionCache throws.
            return context.Fail(result.Message ?? result.Outcome.ToName());
        }
    }
}

/// <summary>
/// The memory level's hold on a stored answer's counted body. FusionCache's memory entry, which wraps the answer, is
/// internal to FusionCache: its public <c>Value</c> is read by reflection, once per stored or evicted entry. Should a
/// later FusionCache change it, nothing is held and nothing recycled: bodies go to the GC as before, and
/// <c>ResponseCacheBodyTests</c> fails.
/// </summary>
internal sealed class EntryHolds : IEntryHolds
{
    public static readonly EntryHolds Instance = new();

    private PropertyInfo? _value;

    public bool TryHold(object? value, out StoredBody? held)
    {
        held = null;
        if (BodyOf(value) is not { } body)
        {
            return true;
        }

        if (!body.TryRetainForEntry())
        {
            return false;
        }

        held = body;
        return true;
    }

    private CountedBody? BodyOf(object? entry)
    {
        if (entry is null)
        {
            return null;
        }

        var property = _value;
        if (property is null || property.DeclaringType != entry.GetType())
        {
            _value = property = entry.GetType().GetProperty("Value", typeof(object));
        }

        return property?.GetValue(entry) is CachedResponse { Body: CountedBody body } ? body : null;
    }
}

/// <summary>The downstream call behind a cached source, detached from the request that started it (it may serve others, or run in the background).</summary>
internal interface ICachedCall
{
    /// <summary>Names the source, for logs.</summary>
    string Name { get; }

    /// <summary>Calls the downstream under the source's own timeout; never throws but for a bug. A successful body is pooled: the cache copies it.</summary>
    Task<CallAnswer> CallAsync();
}


/// <summary>
/// The hook for sharing answers between instances: attaches a distributed level and a backplane (Redis,
/// <c>Gateway:Cache:Redis</c>) to the FusionCache instance; stored values then need a serializer.
/// </summary>
internal interface IResponseCacheSharing
{
    /// <summary>FusionCache's own log, for the distributed level's and backplane's trouble; none without sharing.</summary>
    ILogger<FusionCache>? Logger { get; }

    /// <summary>Sets the cache-wide options (key prefix, circuit breakers) before the cache is built.</summary>
    void Configure(FusionCacheOptions options);

    /// <summary>
    /// Attaches the distributed level and the backplane to the cache just built; what is read back from Redis is
    /// checked against <paramref name="maxBytes"/> (<c>Gateway:Cache:MaxBytes</c>), the bound of one entry.
    /// </summary>
    void Attach(IFusionCache cache, long maxBytes, TimeProvider timeProvider);
}
