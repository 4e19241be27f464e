namespace Gateway.Shutdown;

/// <summary>
/// The drain on SIGTERM. When the host starts stopping (<see cref="IHostApplicationLifetime.ApplicationStopping"/>),
/// Kestrel stops accepting connections and readiness turns unhealthy, while the aggregates and routes in flight
/// go on: <see cref="Expired"/> is cancelled only <c>Gateway:Shutdown:DrainTimeout</c> later, and what is still
/// running then ends as <c>cancelled</c>. Everything that used to listen to <c>ApplicationStopping</c> to cut
/// requests listens to <see cref="Expired"/> instead.
/// </summary>
internal sealed class ShutdownDrain : IDisposable
{
    private readonly CancellationTokenSource _expired;
    private readonly CancellationTokenRegistration _stopping;
    private readonly CancellationToken _stoppingToken;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private long _beganAt;
    private int _inFlight;
    private int _drainedLogged;

    public ShutdownDrain(IHostApplicationLifetime lifetime, TimeProvider timeProvider, TimeSpan drainTimeout, ILogger<ShutdownDrain> logger)
    {
        DrainTimeout = drainTimeout;
        _timeProvider = timeProvider;
        _logger = logger;
        _stoppingToken = lifetime.ApplicationStopping;
        // Created on the injected clock, so CancelAfter counts on it (tests advance a fake one).
        _expired = new CancellationTokenSource(Timeout.InfiniteTimeSpan, timeProvider);
        _expired.Token.UnsafeRegister(static s => ((ShutdownDrain)s!).OnExpired(), this);
        _stopping = _stoppingToken.UnsafeRegister(static s => ((ShutdownDrain)s!).Begin(), this);
    }

    /// <summary>How long requests in flight get once the host stops (<c>Gateway:Shutdown:DrainTimeout</c>).</summary>
    public TimeSpan DrainTimeout { get; }

    /// <summary>Cancelled when the drain is over: requests still in flight then are cut and answer <c>cancelled</c>.</summary>
    public CancellationToken Expired => _expired.Token;

    /// <summary>True from the moment the host starts stopping: readiness reports it.</summary>
    public bool Draining => _stoppingToken.IsCancellationRequested;

    /// <summary>Aggregates and routes being answered right now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>A request of the gateway's traffic (an aggregate or a route) began.</summary>
    public void Enter() => Interlocked.Increment(ref _inFlight);

    /// <summary>A request counted by <see cref="Enter"/> ended; the last one to end during the drain says so.</summary>
    public void Exit()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && Draining && !_expired.IsCancellationRequested
            && Interlocked.Exchange(ref _drainedLogged, 1) == 0)
        {
            Log.Drained(_logger, (long)_timeProvider.GetElapsedTime(Volatile.Read(ref _beganAt)).TotalMilliseconds);
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _expired.Dispose();
    }

    private void Begin()
    {
        Volatile.Write(ref _beganAt, _timeProvider.GetTimestamp());
        var inFlight = InFlight;
        Log.DrainStarted(_logger, inFlight, (long)DrainTimeout.TotalMilliseconds);
        if (inFlight == 0)
        {
            Interlocked.Exchange(ref _drainedLogged, 1);
        }

        if (DrainTimeout <= TimeSpan.Zero)
        {
            _expired.Cancel();
        }
        else
        {
            _expired.CancelAfter(DrainTimeout);
        }
    }

    private void OnExpired()
    {
        if (InFlight is var left and > 0)
        {
            Log.DrainExpired(_logger, (long)DrainTimeout.TotalMilliseconds, left);
        }
    }
}
