using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;
using Polly;

namespace Gateway.Downstream;

/// <summary>
/// One downstream service as the gateway treats it: a YARP cluster (which holds the destinations, their
/// health and the transport) plus the gateway's own policies for it: the concurrency limit, the resilience
/// pipeline with its shared circuit breaker, the default timeout, the body cap and the headers it receives.
/// </summary>
internal sealed class DownstreamService
{
    private readonly HashSet<string> _propagateHeaders;
    private readonly long _capacity;
    private long _rejected;

    public DownstreamService(
        string id,
        ConcurrencyLimiter limiter,
        TimeSpan? timeout,
        long maxResponseBytes,
        IEnumerable<string> propagateHeaders,
        string budgetHeader,
        DownstreamResilience resilience)
    {
        Id = id;
        Limiter = limiter;
        _capacity = limiter.GetStatistics()?.CurrentAvailablePermits ?? 0;
        Timeout = timeout;
        MaxResponseBytes = maxResponseBytes;
        _propagateHeaders = new HashSet<string>(propagateHeaders, StringComparer.OrdinalIgnoreCase);
        BudgetHeader = budgetHeader;
        Resilience = resilience;
    }

    /// <summary>The YARP cluster id, as declared under <c>ReverseProxy:Clusters</c>.</summary>
    public string Id { get; }

    /// <summary>Calls in flight to this downstream, with a bounded queue behind the cap.</summary>
    public ConcurrencyLimiter Limiter { get; }

    /// <summary>Calls holding a slot now (for metrics; the limiter's statistics only say what is free).</summary>
    public long InFlight => _capacity - (Limiter.GetStatistics()?.CurrentAvailablePermits ?? _capacity);

    /// <summary>Calls refused because the queue was full, since start (for metrics).</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    public void CountRejected() => Interlocked.Increment(ref _rejected);

    public TimeSpan? Timeout { get; }

    /// <summary>What a refusal of a pass-through route to this downstream says (a route has no call timeout of its own: only the refusals apply).</summary>
    public CallMessages RouteMessages => field ??= new(this, Timeout ?? TimeSpan.Zero);

    public long MaxResponseBytes { get; }

    /// <summary>Header carrying the time left on every call.</summary>
    public string BudgetHeader { get; }

    public DownstreamResilience Resilience { get; }

    /// <summary>The name of a retry's or hedge's span, <c>attempt {cluster}</c>, built once.</summary>
    public string AttemptSpanName => field ??= "attempt " + Id;

    /// <summary>The inbound headers this cluster receives (the global list and its own).</summary>
    public IReadOnlyCollection<string> PropagateHeaders => _propagateHeaders;

    public bool Propagates(string header) => _propagateHeaders.Contains(header);

    /// <summary>
    /// Runs a call through the resilience pipeline (straight to the client when no strategy is configured).
    /// Throws what the last attempt threw, or Polly's rejections (broken circuit, attempt timeout).
    /// </summary>
    public ValueTask<DownstreamResponse> SendAsync(DownstreamCall call, DownstreamClient client, CancellationToken cancellationToken) =>
        Resilience.Pipeline is { } pipeline ? SendThroughAsync(pipeline, call, client, cancellationToken) : client.SendAsync(call, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<DownstreamResponse> SendThroughAsync(ResiliencePipeline<DownstreamResponse> pipeline, DownstreamCall call, DownstreamClient client, CancellationToken cancellationToken)
    {
        var budget = Resilience.RetryBudget;
        budget?.EnterCall();
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(DownstreamResilience.CallKey, call);
        try
        {
            return await pipeline.ExecuteAsync(
                // The first attempt is the source's span; each retry or hedge gets one of its own.
                static (context, state) => state.call.Span is { } span && state.call.NextTracedAttempt() is var number and > 1
                    ? TracedAttemptAsync(span, state.call, state.client, number, context.CancellationToken)
                    : state.client.SendAsync(state.call, context.CancellationToken),
                context,
                (client, call, service: this)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
            if (budget is not null)
            {
                call.ReleaseAllRetryPermits(budget);
                budget.ExitCall();
            }
        }
    }

    // A retry or hedge gets a span under the call's; its own flow makes it current, so the destination, the
    // traceparent (and the HttpClient span, when on) land on it.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<DownstreamResponse> TracedAttemptAsync(Activity span, DownstreamCall call, DownstreamClient client, int number, CancellationToken cancellationToken)
    {
        var attempt = AttemptActivities.StartAttempt(span, call, number);
        DownstreamResponse? response = null;
        Exception? failure = null;
        try
        {
            response = await client.SendAsync(call, cancellationToken).ConfigureAwait(false);
            return response;
        }
        catch (Exception ex)
        {
            failure = ex;
            throw;
        }
        finally
        {
            AttemptActivities.EndAttempt(attempt, response, failure);
        }
    }
}
