using System.Diagnostics.Metrics;
using Gateway.Logging;
using Gateway.Telemetry;

namespace Gateway.Diagnostics;

/// <summary>
/// The .NET counterpart of asyncio's debug mode: every <see cref="ProbeInterval"/> a timer queues a work item on
/// the thread pool, and the monitor measures how late it starts against the moment the timer was due (thread-pool
/// scheduling lag: the wait for a free pool thread plus the wait behind queued work). A pool starved by blocking
/// code (sync over async, <c>.Result</c>, long CPU work on pool threads) shows as lag long before requests time out.
/// Each measurement goes to the <c>gateway.threadpool.lag</c> histogram; one above <c>Gateway:Diagnostics:LagWarning</c>
/// logs a Warning with the pool's thread and queue counts, at most one per interval. One probe is in flight at a
/// time: the next is armed when the last has run, so a starved pool gets no pile of probes.
/// </summary>
internal sealed class ThreadPoolLagMonitor : IHostedService, IDisposable
{
    public const string InstrumentName = "gateway.threadpool.lag";

    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(100);

    private readonly Histogram<double> _lag;

    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly TimeSpan _lagWarning;
    private readonly LogThrottle _warnings;
    private readonly Lock _lock = new();
    private ITimer? _timer;
    private long _dueAt;
    private bool _stopped;

    public ThreadPoolLagMonitor(TimeProvider timeProvider, ILogger<ThreadPoolLagMonitor> logger, GatewayMetrics metrics, TimeSpan lagWarning, TimeSpan warningInterval)
    {
        _lag = metrics.Meter.CreateHistogram<double>(
            InstrumentName, "ms", "How late a work item queued on the thread pool every 100 ms started running");
        _timeProvider = timeProvider;
        _logger = logger;
        _lagWarning = lagWarning;
        _warnings = new LogThrottle(timeProvider, warningInterval);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _dueAt = DueFromNow();
            _timer = _timeProvider.CreateTimer(static s => ((ThreadPoolLagMonitor)s!).Due(), this, ProbeInterval, Timeout.InfiniteTimeSpan);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _stopped = true;
            _timer?.Dispose();
            _timer = null;
        }
    }

    /// <summary>A probe the timer queued for <paramref name="dueAt"/> started running now; arms the next one.</summary>
    public void Ran(long dueAt)
    {
        var now = _timeProvider.GetTimestamp();
        var lag = now > dueAt ? _timeProvider.GetElapsedTime(dueAt, now) : TimeSpan.Zero;
        _lag.Record(lag.TotalMilliseconds);
        if (lag > _lagWarning && _warnings.TryEnter(out var suppressed))
        {
            ThreadPool.GetMinThreads(out var minThreads, out _);
            Log.ThreadPoolLag(_logger, (long)lag.TotalMilliseconds, (long)_lagWarning.TotalMilliseconds, ThreadPool.ThreadCount, minThreads,
                ThreadPool.PendingWorkItemCount, ThreadPool.CompletedWorkItemCount, suppressed);
        }

        lock (_lock)
        {
            if (!_stopped && _timer is not null)
            {
                _dueAt = DueFromNow();
                _timer.Change(ProbeInterval, Timeout.InfiniteTimeSpan);
            }
        }
    }

    // The timer's callback: queue the probe behind whatever work is waiting.
    private void Due()
    {
        long dueAt;
        lock (_lock)
        {
            dueAt = _dueAt;
        }

        ThreadPool.UnsafeQueueUserWorkItem(static state => state.Monitor.Ran(state.DueAt), (Monitor: this, DueAt: dueAt), preferLocal: false);
    }

    private long DueFromNow() => _timeProvider.GetTimestamp() + (long)(ProbeInterval.TotalSeconds * _timeProvider.TimestampFrequency);
}
