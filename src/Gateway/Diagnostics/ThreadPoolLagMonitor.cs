using System.Diagnostics.Metrics;
using Gateway.Logging;
using Gateway.Telemetry;

namespace Gateway.Diagnostics;

/// <summary>
/// The .NET counterpart of asyncio's debug mode: every <see cref="ProbeInterval"/> it queues a work item on the
/// thread pool and measures how late it starts (scheduling lag). A pool starved by blocking code (sync over async,
/// <c>.Result</c>, long CPU work on pool threads) shows as lag long before requests time out. Each measurement goes
/// to the <c>gateway.threadpool.lag</c> histogram; one above <c>Gateway:Diagnostics:LagWarning</c> logs a Warning
/// with the pool's thread and queue counts, at most one per interval.
/// </summary>
internal sealed class ThreadPoolLagMonitor : BackgroundService
{
    public const string InstrumentName = "gateway.threadpool.lag";

    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(100);

    private static readonly Histogram<double> Lag = GatewayTelemetry.Meter.CreateHistogram<double>(
        InstrumentName, "ms", "How late a work item queued on the thread pool every 100 ms started running");

    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly TimeSpan _lagWarning;
    private readonly LogThrottle _warnings;
    private int _pending;

    public ThreadPoolLagMonitor(TimeProvider timeProvider, ILogger<ThreadPoolLagMonitor> logger, TimeSpan lagWarning, TimeSpan warningInterval)
    {
        _timeProvider = timeProvider;
        _logger = logger;
        _lagWarning = lagWarning;
        _warnings = new LogThrottle(timeProvider, warningInterval);
    }

    /// <summary>Queues one probe unless the previous one has not run yet (a starved pool gets no pile of probes).</summary>
    public void Probe()
    {
        if (Interlocked.Exchange(ref _pending, 1) == 1)
        {
            return;
        }

        var queuedAt = _timeProvider.GetTimestamp();
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.Monitor.Ran(state.QueuedAt), (Monitor: this, QueuedAt: queuedAt), preferLocal: false);
    }

    /// <summary>A probe queued at <paramref name="queuedAt"/> started running now.</summary>
    public void Ran(long queuedAt)
    {
        var lag = _timeProvider.GetElapsedTime(queuedAt);
        Volatile.Write(ref _pending, 0);
        Lag.Record(lag.TotalMilliseconds);
        if (lag > _lagWarning && _warnings.TryEnter(out var suppressed))
        {
            ThreadPool.GetMinThreads(out var minThreads, out _);
            Log.ThreadPoolLag(_logger, (long)lag.TotalMilliseconds, (long)_lagWarning.TotalMilliseconds, ThreadPool.ThreadCount, minThreads,
                ThreadPool.PendingWorkItemCount, ThreadPool.CompletedWorkItemCount, suppressed);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(ProbeInterval, _timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Probe();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }
}
