using System.Diagnostics;
using Gateway.Downstream;
using Gateway.Model;

namespace Gateway.Aggregation;

internal sealed partial class FanOutExecutor
{
    /// <summary>The state of one request's fan-out: which sources wait, run, or are done.</summary>
    private sealed class FanOutRun : IPlaceholderValues, ICallStop, IDisposable
    {
        private readonly CancellationTokenSource _cancellation;
        private readonly long _deadlineAt;
        private int _cancelReason;
        private bool _decided;
        private readonly FanOutExecutor _executor;
        private readonly SourceResult?[] _results;
        private readonly int[] _pendingInputs;
        private readonly bool[] _started;
        // Its continuation (the rest of the request: the envelope, the answer) runs on the thread of the last source to
        // settle, as after Task.WhenAll. Run asynchronously, it was one more thread-pool work item per request and a
        // worker woken for it (2.3 work items per aggregate request against the hand-written endpoint's 1.25). When
        // that source settles inside a cancellation (deadline, fail-fast, the client, shutdown), the request goes on
        // inside Cancel's callbacks; what it disposes there (the run's token source, its registrations) allows it.
        private readonly TaskCompletionSource _done = new();
        private readonly Lock _lock = new();
        private int _running;
        private int _remaining;
        private readonly Activity?[]? _spans;

        public FanOutRun(FanOutExecutor executor, AggregatePlan plan, AggregateRequest request)
        {
            _executor = executor;
            Plan = plan;
            Request = request;
            var time = executor._timeProvider;
            _cancellation = new CancellationTokenSource(request.Deadline, time);
            _deadlineAt = time.GetTimestamp() + (long)(request.Deadline.TotalSeconds * time.TimestampFrequency);
            var sources = plan.Definition.Sources;
            _results = new SourceResult?[sources.Count];
            _pendingInputs = new int[sources.Count];
            _started = new bool[sources.Count];
            for (var i = 0; i < sources.Count; i++)
            {
                _pendingInputs[i] = sources[i].Inputs.Count;
            }

            _remaining = sources.Count;
            if (request.Span is not null)
            {
                _spans = new Activity?[sources.Count];
            }
        }

        public AggregatePlan Plan { get; }

        public AggregateRequest Request { get; }

        /// <summary>Cancelled at the deadline, and when the calls still running are no longer wanted.</summary>
        public CancellationToken Token => _cancellation.Token;

        /// <summary>The host stopping, which alone (besides its own timeout) stops a source's call running on as the breaker's probe.</summary>
        public CancellationToken Shutdown => _executor._stopping;

        /// <summary>Every source's result; complete once <see cref="RunAsync"/> has finished.</summary>
        public SourceResult[] Results => _results!;

        public Task RunAsync()
        {
            Span<int> toStart = stackalloc int[_results.Length];
            int count;
            lock (_lock)
            {
                count = TakeStartable(toStart);
            }

            Start(toStart[..count]);
#pragma warning disable VSTHRD003 // this run's own completion source, completed by the calls it started above
            return _done.Task;
#pragma warning restore VSTHRD003
        }

        /// <summary>Time from <paramref name="now"/> to the deadline.</summary>
        public TimeSpan TimeLeft(long now) => now >= _deadlineAt ? TimeSpan.Zero : _executor._timeProvider.GetElapsedTime(now, _deadlineAt);

        /// <summary>Stops every call still running, for <paramref name="reason"/>; the first reason wins.</summary>
        public void Cancel(CancelReason reason)
        {
            // The deadline's timer sets no reason: a run it already stopped keeps "deadline".
            if (_cancellation.IsCancellationRequested || Interlocked.CompareExchange(ref _cancelReason, (int)reason, 0) != 0)
            {
                return;
            }

            try
            {
                _cancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The run ended (and was disposed) while fail-fast was deciding: nothing left to stop.
            }
        }

        /// <summary>The result of a source stopped by <see cref="Token"/>: the deadline, fail-fast, shutdown or the client.</summary>
        public SourceResult Stopped(int index, long elapsedMs, bool queued)
        {
            var messages = Plan.Messages[index];
            return (CancelReason)Volatile.Read(ref _cancelReason) switch
            {
                CancelReason.Deadline => SourceResult.Failed(SourceOutcome.Timeout, elapsedMs, (Request.Deadline == Plan.Definition.Timeout ? messages.Deadline : messages.DeadlineOf(Request.Deadline)) + (queued ? messages.WhileQueued : "")),
                CancelReason.FailFast => SourceResult.Failed(SourceOutcome.Cancelled, elapsedMs, messages.FailedFast),
                CancelReason.Shutdown => SourceResult.Failed(SourceOutcome.Cancelled, elapsedMs, CallMessages.ShuttingDown),
                _ => SourceResult.Failed(SourceOutcome.Cancelled, elapsedMs, "cancelled: the client went away"),
            };
        }

        public void Dispose() => _cancellation.Dispose();

        public string? Get(Placeholder placeholder) => placeholder.IsSourceField
            ? JsonField.GetScalar(_results[placeholder.SourceIndex]!.Body!.Span, placeholder.FieldPath)
            : Request.ClientValues[placeholder.ClientIndex];

        private void Start(ReadOnlySpan<int> sources)
        {
            foreach (var index in sources)
            {
                _ = RunSourceAsync(index);
            }
        }

        /// <summary>The span of source <paramref name="index"/> while it runs; null when the request is not traced.</summary>
        public Activity? SpanOf(int index) => _spans?[index];

        private async Task RunSourceAsync(int index)
        {
            var started = _executor._timeProvider.GetTimestamp();
            var source = Plan.Definition.Sources[index];
            Activity? span = null;
            if (Request.Span is { } aggregateSpan)
            {
                span = SourceActivities.StartSource(aggregateSpan, Plan.Definition.Name, source);
                // Each source writes its own slot once, before its call reads it.
                _spans![index] = span;
            }

            SourceResult result;
            try
            {
                result = (await _executor.FetchAsync(this, index).ConfigureAwait(false)).Result;
            }
            catch (Exception ex)
            {
                Log.SourceCallUnexpectedError(_executor._logger, Plan.Definition.Name, Plan.Definition.Sources[index].Name, ex);
                result = SourceResult.Failed(SourceOutcome.Unavailable, 0, $"source '{Plan.Definition.Sources[index].Name}' failed");
            }

            _executor._metrics.RecordSource(Plan.Definition.Name, source.Name, result.Outcome.ToName(), _executor._timeProvider.GetElapsedTime(started).TotalMilliseconds);
            if (source.Kind == SourceKind.CachedData)
            {
                _executor._metrics.RecordCacheLookup("dataset", Plan.Definition.Name, source.Name, result.Cache != CacheState.None, result);
            }

            if (!result.IsOk)
            {
                _executor._failures.Report(Plan.Definition.Name, Plan.Definition.Sources[index], result);
            }

            // Ended after the failure is logged, so that the log record carries the source's span.
            SourceActivities.EndSource(span, result);
            Complete(index, result);
        }

        private void Complete(int index, SourceResult result)
        {
            Span<int> toStart = stackalloc int[_results.Length];
            int count;
            bool finished;
            lock (_lock)
            {
                _results[index] = result;
                _running--;
                _remaining--;
                foreach (var dependent in Plan.Definition.Sources[index].Dependents)
                {
                    if (!result.IsOk)
                    {
                        Skip(dependent, index, result.Cause);
                    }
                    else
                    {
                        _pendingInputs[dependent]--;
                    }
                }

                if (!result.IsOk && !_decided && Plan.Definition.FailFast && RequiredFailed())
                {
                    // A required source failed: the status is known, nothing else can change it.
                    _decided = true;
                    CancelUnstarted();
                }

                count = TakeStartable(toStart);
                finished = _remaining == 0;
            }

            if (_decided)
            {
                Cancel(CancelReason.FailFast);
            }

            Start(toStart[..count]);
            if (finished)
            {
                _done.TrySetResult();
            }
        }

        // Failed itself, or skipped because its input failed.
        private bool RequiredFailed()
        {
            var sources = Plan.Definition.Sources;
            for (var i = 0; i < _results.Length; i++)
            {
                if (sources[i].Required && _results[i] is { IsOk: false })
                {
                    return true;
                }
            }

            return false;
        }

        // Once the answer is decided, a source that has not started never will.
        private void CancelUnstarted()
        {
            for (var i = 0; i < _results.Length; i++)
            {
                if (!_started[i] && _results[i] is null)
                {
                    _results[i] = SourceResult.Failed(SourceOutcome.Cancelled, 0, Plan.Messages[i].FailedFast);
                    _remaining--;
                }
            }
        }

        // A source whose input failed is not called, and neither is anything that reads it.
        private void Skip(int index, int failedInput, SourceOutcome cause)
        {
            if (_started[index] || _results[index] is not null)
            {
                return;
            }

            var sources = Plan.Definition.Sources;
            _results[index] = SourceResult.Skipped($"not called: input '{sources[failedInput].Name}' failed", cause);
            _remaining--;
            foreach (var dependent in sources[index].Dependents)
            {
                Skip(dependent, index, cause);
            }
        }

        private int TakeStartable(Span<int> toStart)
        {
            var count = 0;
            var max = Plan.Definition.MaxParallel;
            for (var i = 0; i < _results.Length && _running < max; i++)
            {
                if (!_started[i] && _results[i] is null && _pendingInputs[i] == 0)
                {
                    _started[i] = true;
                    _running++;
                    toStart[count++] = i;
                }
            }

            return count;
        }
    }
}
