using Polly;
using Polly.CircuitBreaker;

namespace Gateway.Downstream;

/// <summary>
/// The cluster's circuit breaker as a step of the aggregate pipeline. Polly's breaker has no neutral outcome: in
/// half-open state whatever the probe reports closes the circuit or reopens it. So while the circuit is not
/// closed, a call that may become the probe runs on its own timeout (the source's <c>Timeout</c>) and shutdown
/// only, not on the request's deadline, fail-fast or the client: the breaker hears how the downstream did. Its
/// caller still stops waiting at the request's deadline; the probe's answer, arriving later, is released unread.
/// </summary>
internal sealed class BreakerStep(ResiliencePipeline<DownstreamResponse> breaker, CircuitBreakerStateProvider circuit, TimeProvider timeProvider)
    : ResilienceStrategy<DownstreamResponse>
{
    protected override ValueTask<Outcome<DownstreamResponse>> ExecuteCore<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<DownstreamResponse>>> callback, ResilienceContext context, TState state)
    {
        if (circuit.CircuitState == CircuitState.Closed
            || context.Properties.GetValue(DownstreamResilience.CallKey, null!) is not { OwnEndsAt: not null } call)
        {
            return breaker.ExecuteOutcomeAsync(callback, context, state);
        }

        // A call whose caller is gone already is not sent, and so never becomes the probe.
        if (context.CancellationToken.IsCancellationRequested)
        {
            return Outcome.FromExceptionAsValueTask<DownstreamResponse>(new OperationCanceledException(context.CancellationToken));
        }

        return RunAloneAsync(callback, context, state, call);
    }

    private async ValueTask<Outcome<DownstreamResponse>> RunAloneAsync<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<DownstreamResponse>>> callback, ResilienceContext context, TState state, DownstreamCall call)
    {
        var probe = new Probe(call, timeProvider);
        var task = probe.RunAsync(breaker, callback, state);
        if (!task.IsCompleted)
        {
            try
            {
                await task.WaitAsync(context.CancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
            {
                // The caller's deadline (or fail-fast, or the client leaving): it answers now, the probe runs on.
                _ = ReleaseWhenDoneAsync(task, probe);
                return Outcome.FromException<DownstreamResponse>(new OperationCanceledException(context.CancellationToken));
            }
        }

#pragma warning disable VSTHRD003 // the probe's own task, started above; completed or awaited here only
        var outcome = await task.ConfigureAwait(false);
#pragma warning restore VSTHRD003
        probe.Dispose();
        call.RejoinRequest();
        return outcome;
    }

    private static async Task ReleaseWhenDoneAsync(Task<Outcome<DownstreamResponse>> task, Probe probe)
    {
        try
        {
#pragma warning disable VSTHRD003 // the abandoned probe's own task
            var outcome = await task.ConfigureAwait(false);
#pragma warning restore VSTHRD003
            outcome.Result?.Dispose();
        }
        finally
        {
            probe.Dispose();
        }
    }

    /// <summary>One call that may become the probe: its own timeout, linked to shutdown, and its own resilience context.</summary>
    private sealed class Probe(DownstreamCall call, TimeProvider timeProvider) : IDisposable
    {
        private readonly CancellationTokenSource _timeout = new(call.OwnTimeLeft, timeProvider);
        private CancellationTokenRegistration _shutdown;

        public async Task<Outcome<DownstreamResponse>> RunAsync<TState>(
            ResiliencePipeline<DownstreamResponse> breaker, Func<ResilienceContext, TState, ValueTask<Outcome<DownstreamResponse>>> callback, TState state)
        {
            _shutdown = call.Shutdown.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _timeout);
            var context = DownstreamResilience.RentContext(call, _timeout.Token);
            try
            {
                return await breaker.ExecuteOutcomeAsync(
                    static (context, s) =>
                    {
                        // Let through: this call is the probe (or was admitted while the circuit was closed).
                        s.call.RunAlone(s.timeout);
                        return s.callback(context, s.state);
                    },
                    context,
                    (call, timeout: _timeout, callback, state)).ConfigureAwait(false);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }

        public void Dispose()
        {
            _shutdown.Dispose();
            _timeout.Dispose();
        }
    }
}
