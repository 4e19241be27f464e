using Gateway.Logging;
using StackExchange.Redis;

namespace Gateway.Caching.Redis;

/// <summary>
/// The one connection to the Redis named by <c>Gateway:Cache:Redis</c>, for every part of the gateway that shares
/// through it (datasets; the response cache's second level and backplane, through <see cref="ConnectAsync"/>,
/// the shape of FusionCache's <c>ConnectionMultiplexerFactory</c>). It connects on
/// first use, never at start-up, with <c>AbortOnConnectFail=false</c>: a Redis that is down at start or goes
/// away later is reconnected to in the background, and callers see <see cref="IsConnected"/> false meanwhile.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    /// <summary>How long one Redis command may take unless the connection string says otherwise: Redis work runs in the background refresh path only, and a slow Redis must not hold it up.</summary>
    public static readonly TimeSpan DefaultOperationTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a connection attempt may take unless the connection string says otherwise.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(1);

    private readonly ConfigurationOptions? _options;
    private readonly ILogger _logger;
    private readonly LogThrottle _failures;
    private readonly Lock _lock = new();
    private Task<IConnectionMultiplexer>? _connecting;
    private bool _disposed;

    public RedisConnection(string? connectionString, TimeProvider timeProvider, ILogger<RedisConnection> logger)
    {
        _logger = logger;
        _failures = new LogThrottle(timeProvider, LogThrottle.DefaultWindow);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            _options = Configure(connectionString);
            OperationTimeout = TimeSpan.FromMilliseconds(_options.AsyncTimeout);
        }
    }

    /// <summary>Whether <c>Gateway:Cache:Redis</c> is set; without it nothing is shared.</summary>
    public bool IsConfigured => _options is not null;

    /// <summary>Connected now; false before the first connection, while Redis is away, or when none is configured.</summary>
    public bool IsConnected => Current is { IsConnected: true };

    /// <summary>The bound put on one command (the connection string's <c>asyncTimeout</c>, else 500 ms).</summary>
    public TimeSpan OperationTimeout { get; } = DefaultOperationTimeout;

    /// <summary>The multiplexer once the first connection attempt has ended (connected or still retrying), else null.</summary>
#pragma warning disable VSTHRD002 // reads a task that has already completed: no wait
    public IConnectionMultiplexer? Current => Volatile.Read(ref _connecting) is { IsCompletedSuccessfully: true } task ? task.Result : null;
#pragma warning restore VSTHRD002

    /// <summary>
    /// The shared multiplexer; the first call starts connecting. With <c>AbortOnConnectFail=false</c> it completes once the
    /// first attempt has ended, connected or not, and the multiplexer goes on reconnecting by itself.
    /// </summary>
    public Task<IConnectionMultiplexer> ConnectAsync()
    {
        if (_options is null)
        {
            throw new InvalidOperationException("Gateway:Cache:Redis is not set");
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connecting is { IsFaulted: false, IsCanceled: false } connecting)
            {
                return connecting;
            }

            return _connecting = ConnectOnceAsync(_options);
        }
    }

    /// <summary>Refuses a connection string StackExchange.Redis cannot read, naming <paramref name="key"/> (never echoing the value: it may hold a password).</summary>
    public static void CheckConfigured(string? connectionString, string key, List<string> errors)
    {
        if (connectionString is null)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(connectionString))
        {
            errors.Add($"{key}: is empty; leave it out to keep cached data in this instance's memory, or name a Redis such as \"127.0.0.1:6379\"");
            return;
        }

        try
        {
            if (ConfigurationOptions.Parse(connectionString).EndPoints.Count == 0)
            {
                errors.Add($"{key}: names no Redis endpoint (expected e.g. \"127.0.0.1:6379\")");
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or NotSupportedException or RedisConnectionException)
        {
            errors.Add($"{key}: is not a StackExchange.Redis connection string (expected e.g. \"127.0.0.1:6379,password=...\")");
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task<IConnectionMultiplexer>? connecting;
        lock (_lock)
        {
            _disposed = true;
            connecting = _connecting;
        }

        if (connecting is { IsCompletedSuccessfully: true })
        {
            var multiplexer = await connecting.ConfigureAwait(false);
            await multiplexer.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<IConnectionMultiplexer> ConnectOnceAsync(ConfigurationOptions options)
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
        multiplexer.ConnectionFailed += (_, e) =>
        {
            if (_failures.TryEnter(out var suppressed))
            {
                Log.RedisConnectionFailed(_logger, e.FailureType.ToString(), suppressed);
            }
        };
        multiplexer.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive)
            {
                Log.RedisConnectionRestored(_logger);
            }
        };
        if (!multiplexer.IsConnected && _failures.TryEnter(out var missed))
        {
            Log.RedisConnectionFailed(_logger, "not reachable at the first attempt", missed);
        }

        bool disposed;
        lock (_lock)
        {
            disposed = _disposed;
        }

        if (disposed)
        {
            await multiplexer.DisposeAsync().ConfigureAwait(false);
            throw new ObjectDisposedException(nameof(RedisConnection));
        }

        return multiplexer;
    }

    private static ConfigurationOptions Configure(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);

        // Never fail for want of Redis: keep retrying in the background while every instance works alone.
        options.AbortOnConnectFail = false;
        if (!Names(connectionString, "connectTimeout"))
        {
            options.ConnectTimeout = (int)DefaultConnectTimeout.TotalMilliseconds;
        }

        if (!Names(connectionString, "asyncTimeout"))
        {
            options.AsyncTimeout = (int)DefaultOperationTimeout.TotalMilliseconds;
        }

        if (!Names(connectionString, "syncTimeout"))
        {
            options.SyncTimeout = (int)DefaultOperationTimeout.TotalMilliseconds;
        }

        // Back within seconds of Redis's return, not the library's default back-off.
        options.ReconnectRetryPolicy ??= new ExponentialRetry(250, 2000);
        options.ClientName ??= "gateway";
        return options;
    }

    private static bool Names(string connectionString, string option) =>
        connectionString.Contains(option + "=", StringComparison.OrdinalIgnoreCase);
}
