using System.ComponentModel.DataAnnotations;
using Gateway.Configuration;
using Polly;
using Polly.CircuitBreaker;
using Polly.Hedging;
using Polly.Retry;
using Polly.Timeout;

namespace Gateway.Downstream;

/// <summary>
/// A downstream's Polly strategies, built once from <see cref="ResilienceOptions"/>. The circuit breaker is
/// its own pipeline so that aggregate calls (inside <see cref="Pipeline"/>) and pass-through routes (which
/// run <see cref="Breaker"/> around the proxied request) share one breaker per cluster; aggregate calls reach it
/// through <see cref="BreakerStep"/>, which keeps a half-open probe from being cut off by its request.
/// Order, outermost first: hedging, retry, circuit breaker, attempt timeout.
/// </summary>
internal sealed class DownstreamResilience
{
    public static readonly ResiliencePropertyKey<DownstreamCall> CallKey = new("Gateway.DownstreamCall");

    public static readonly DownstreamResilience None = new(null, null, null, null, null, null);

    /// <summary>A pooled context carrying <paramref name="call"/> for the strategies (return it to <see cref="ResilienceContextPool.Shared"/>).</summary>
    public static ResilienceContext RentContext(DownstreamCall call, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(CallKey, call);
        return context;
    }

    private DownstreamResilience(ResiliencePipeline<DownstreamResponse>? pipeline, ResiliencePipeline<DownstreamResponse>? breaker, RetryBudget? retryBudget, TimeSpan? breakDuration, TimeSpan? attemptTimeout, CircuitBreakerStateProvider? breakerState)
    {
        BreakerState = breakerState;
        AttemptTimeout = attemptTimeout;
        Pipeline = pipeline;
        Breaker = breaker;
        RetryBudget = retryBudget;
        BreakDuration = breakDuration;
    }

    /// <summary>The strategies aggregate calls run through; null when none is configured.</summary>
    public ResiliencePipeline<DownstreamResponse>? Pipeline { get; }

    /// <summary>The cluster's circuit breaker; null when none is configured.</summary>
    public ResiliencePipeline<DownstreamResponse>? Breaker { get; }

    /// <summary>Retries and hedges share it; null when neither is configured (then a call has one attempt).</summary>
    public RetryBudget? RetryBudget { get; }

    /// <summary>The breaker's state, for metrics; null without a breaker.</summary>
    public CircuitBreakerStateProvider? BreakerState { get; }

    public TimeSpan? BreakDuration { get; }

    /// <summary>Polly's per-attempt timeout, when configured: an attempt's budget is never more.</summary>
    public TimeSpan? AttemptTimeout { get; }

    /// <summary>
    /// Failures worth another attempt and counted by the breaker: no connection or a dropped one, the
    /// attempt's own timeout, 408, 429 and 5xx. A 404 or an invalid body is the downstream's answer.
    /// </summary>
    public static bool IsTransient(Exception? exception, DownstreamResponse? result) => exception switch
    {
        null => result?.IsTransient == true,
        HttpRequestException or IOException or TimeoutRejectedException => true,
        _ => false,
    };

    public static DownstreamResilience Create(ResilienceOptions? options, string key, TimeSpan minBudget, TimeProvider timeProvider, List<string> errors)
    {
        if (options is null || (options.Retry is null && options.CircuitBreaker is null && options.Hedging is null && options.AttemptTimeout is null))
        {
            return None;
        }

        var errorCount = errors.Count;
        Check(options, key, errors);
        if (errors.Count > errorCount)
        {
            return None;
        }

        try
        {
            return Build(options, minBudget, timeProvider);
        }
        catch (ValidationException ex)
        {
            // Polly's own range checks, for anything ours did not catch.
            errors.Add($"{key}: {ex.Message.ReplaceLineEndings(" ")}");
            return None;
        }
    }

    private static void Check(ResilienceOptions options, string key, List<string> errors)
    {
        // Polly's own rules first, from the options it will be built with (its data annotations, as it checks them
        // itself when the pipeline is built); then the gateway's narrower ones, for a key Polly let through.
        var flagged = new HashSet<string>(StringComparer.Ordinal);
        if (options.AttemptTimeout is { } attemptTimeout)
        {
            CheckWithPolly(new TimeoutStrategyOptions { Timeout = attemptTimeout }, key, "", new() { ["Timeout"] = ("AttemptTimeout", attemptTimeout) }, flagged, errors);
        }

        if (options.Retry is { } retry)
        {
            CheckWithPolly(new RetryStrategyOptions<DownstreamResponse> { MaxRetryAttempts = retry.MaxRetryAttempts, Delay = retry.Delay }, key, "Retry:",
                new() { ["MaxRetryAttempts"] = ("MaxRetryAttempts", retry.MaxRetryAttempts), ["Delay"] = ("Delay", retry.Delay) }, flagged, errors);
        }

        if (options.CircuitBreaker is { } breaker)
        {
            CheckWithPolly(
                new CircuitBreakerStrategyOptions<DownstreamResponse>
                {
                    FailureRatio = breaker.FailureRatio,
                    MinimumThroughput = breaker.MinimumThroughput,
                    SamplingDuration = breaker.SamplingDuration,
                    BreakDuration = breaker.BreakDuration,
                },
                key,
                "CircuitBreaker:",
                new()
                {
                    ["FailureRatio"] = ("FailureRatio", breaker.FailureRatio),
                    ["MinimumThroughput"] = ("MinimumThroughput", breaker.MinimumThroughput),
                    ["SamplingDuration"] = ("SamplingDuration", breaker.SamplingDuration),
                    ["BreakDuration"] = ("BreakDuration", breaker.BreakDuration),
                },
                flagged,
                errors);
        }

        if (options.Hedging is { } hedging)
        {
            CheckWithPolly(new HedgingStrategyOptions<DownstreamResponse> { Delay = hedging.Delay, MaxHedgedAttempts = hedging.MaxHedgedAttempts }, key, "Hedging:",
                new() { ["Delay"] = ("Delay", hedging.Delay), ["MaxHedgedAttempts"] = ("MaxHedgedAttempts", hedging.MaxHedgedAttempts) }, flagged, errors);
        }

        void Require(bool ok, string subKey, string rule, object value)
        {
            if (!ok && flagged.Add(subKey))
            {
                errors.Add($"{key}:{subKey}: {rule} (was {value})");
            }
        }

        if (options.AttemptTimeout is { } timeout)
        {
            Require(timeout > TimeSpan.Zero, "AttemptTimeout", "must be positive", timeout);
        }

        if (options.Retry is { } r)
        {
            // A gateway's caps: more attempts or longer pauses than these only hold a client's request hostage.
            Require(r.MaxRetryAttempts <= 100, "Retry:MaxRetryAttempts", "must be at most 100", r.MaxRetryAttempts);
            Require(r.Delay <= TimeSpan.FromMinutes(1), "Retry:Delay", "must be at most 1 minute", r.Delay);
            Require(r.BudgetPercent is >= 0 and <= 100, "Retry:BudgetPercent", "must be between 0 and 100", r.BudgetPercent);
            Require(r.MinRetryConcurrency >= 0, "Retry:MinRetryConcurrency", "must not be negative", r.MinRetryConcurrency);
        }

        if (options.CircuitBreaker is { } b)
        {
            // Polly accepts 0, a breaker that opens on nothing.
            Require(b.FailureRatio > 0, "CircuitBreaker:FailureRatio", "must be above 0", b.FailureRatio);
        }

        if (options.Hedging is { } h)
        {
            // Polly reads a negative delay as "ask a generator", which the configuration cannot name.
            Require(h.Delay > TimeSpan.Zero, "Hedging:Delay", "must be positive", h.Delay);
        }
    }

    /// <summary>Polly's data-annotation rules on <paramref name="pollyOptions"/>, each failure named by the gateway's key (<paramref name="keys"/>: Polly's member, our sub-key and value).</summary>
    private static void CheckWithPolly(object pollyOptions, string key, string prefix, Dictionary<string, (string SubKey, object Value)> keys, HashSet<string> flagged, List<string> errors)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(pollyOptions, new ValidationContext(pollyOptions), results, validateAllProperties: true))
        {
            return;
        }

        foreach (var result in results)
        {
            foreach (var member in result.MemberNames)
            {
                if (keys.TryGetValue(member, out var ours) && flagged.Add(prefix + ours.SubKey))
                {
                    errors.Add($"{key}:{prefix}{ours.SubKey}: {result.ErrorMessage} (was {ours.Value})");
                }
            }
        }
    }

    private static DownstreamResilience Build(ResilienceOptions options, TimeSpan minBudget, TimeProvider timeProvider)
    {
        // Typed like the aggregate pipeline, so that it nests there without a bridge; routes report their
        // outcome to it as a DownstreamResponse too.
        ResiliencePipeline<DownstreamResponse>? breaker = null;
        CircuitBreakerStateProvider? breakerState = null;
        if (options.CircuitBreaker is { } breakerOptions)
        {
            breakerState = new CircuitBreakerStateProvider();
            breaker = new ResiliencePipelineBuilder<DownstreamResponse> { TimeProvider = timeProvider }
                .AddCircuitBreaker(new CircuitBreakerStrategyOptions<DownstreamResponse>
                {
                    FailureRatio = breakerOptions.FailureRatio,
                    MinimumThroughput = breakerOptions.MinimumThroughput,
                    SamplingDuration = breakerOptions.SamplingDuration,
                    BreakDuration = breakerOptions.BreakDuration,
                    StateProvider = breakerState,
                    ShouldHandle = static args => new ValueTask<bool>(IsBreakerFailure(args.Outcome, args.Context)),
                })
                .Build();
        }

        // Retries and hedges draw on one budget, so that neither multiplies the load of an outage.
        var budgetOptions = options.Retry ?? new RetryOptions();
        var budget = options.Retry is null && options.Hedging is null ? null : new RetryBudget(budgetOptions.BudgetPercent, budgetOptions.MinRetryConcurrency);
        var builder = new ResiliencePipelineBuilder<DownstreamResponse> { TimeProvider = timeProvider };
        if (options.Hedging is { } hedging)
        {
            builder.AddHedging(new HedgingStrategyOptions<DownstreamResponse>
            {
                Delay = hedging.Delay,
                MaxHedgedAttempts = hedging.MaxHedgedAttempts,
                // A refusal by the breaker is not an answer: keep waiting for the attempt still running.
                ShouldHandle = static args => new ValueTask<bool>(
                    args.Outcome.Exception is BrokenCircuitException || IsTransient(args.Outcome.Exception, args.Outcome.Result)),
                ActionGenerator = args =>
                {
                    if (args.PrimaryContext.Properties.GetValue(CallKey, null!)?.TimeLeft < minBudget || !budget!.TryAcquire())
                    {
                        return null;
                    }

                    return async () =>
                    {
                        try
                        {
                            return await args.Callback(args.ActionContext).ConfigureAwait(false);
                        }
                        finally
                        {
                            budget.Release();
                        }
                    };
                },
            });
        }

        if (options.Retry is { } retry)
        {
            builder.AddRetry(new RetryStrategyOptions<DownstreamResponse>
            {
                MaxRetryAttempts = retry.MaxRetryAttempts,
                Delay = retry.Delay,
                BackoffType = retry.BackoffType,
                UseJitter = retry.UseJitter,
                ShouldHandle = args => new ValueTask<bool>(ShouldRetry(args, retry, budget!, minBudget)),
                DelayGenerator = static args => new ValueTask<TimeSpan?>(args.Outcome.Result?.RetryAfter),
            });
        }

        if (breaker is not null)
        {
            builder.AddStrategy(_ => new BreakerStep(breaker, breakerState!, timeProvider), new BreakerStepOptions());
        }

        if (options.AttemptTimeout is { } attemptTimeout)
        {
            builder.AddTimeout(attemptTimeout);
        }

        var pipeline = builder.Build();
        return new DownstreamResilience(pipeline, breaker, budget, options.CircuitBreaker?.BreakDuration, options.AttemptTimeout, breakerState);
    }

    // Besides the transient outcomes: a call cut off by its own timeout (the downstream was too slow). A call cut
    // off by the request's deadline, fail-fast, the client or shutdown is no evidence against the downstream, in
    // any state; Polly has no neutral outcome, so it counts as a call that did not fail. In half-open state that
    // would close the circuit on no evidence: the probe is not cut off that way (BreakerStep), and a route's probe
    // waives the client's budget (RouteGuard).
    private static bool IsBreakerFailure(Outcome<DownstreamResponse> outcome, ResilienceContext context) =>
        IsTransient(outcome.Exception, outcome.Result)
        || (outcome.Exception is OperationCanceledException && context.Properties.GetValue(CallKey, null!)?.OwnTimeoutFired == true);

    private static bool ShouldRetry(RetryPredicateArguments<DownstreamResponse> args, RetryOptions retry, RetryBudget budget, TimeSpan minBudget)
    {
        var transient = IsTransient(args.Outcome.Exception, args.Outcome.Result);
        if (args.AttemptNumber == 0 && !transient)
        {
            // Nearly every call: a first attempt that needs no retry, decided without looking the call up.
            return false;
        }

        var call = args.Context.Properties.GetValue(CallKey, null!);
        if (args.AttemptNumber > 0)
        {
            // The attempt that just ended was a retry: its permit goes back.
            call?.ReleaseRetryPermit(budget);
        }

        if (args.AttemptNumber >= retry.MaxRetryAttempts || !transient)
        {
            return false;
        }

        // A retry that cannot start with the minimum budget left would only turn this answer into a
        // timeout: the downstream's Retry-After, else the backoff before jitter, must leave that much.
        var delay = args.Outcome.Result?.RetryAfter ?? retry.BackoffType switch
        {
            DelayBackoffType.Constant => retry.Delay,
            DelayBackoffType.Linear => retry.Delay * (args.AttemptNumber + 1),
            _ => retry.Delay * Math.Pow(2, Math.Min(args.AttemptNumber, 30)),
        };
        if (call is not null && delay + minBudget > call.TimeLeft)
        {
            return false;
        }

        if (!budget.TryAcquire())
        {
            return false;
        }

        call?.AddRetryPermit();
        return true;
    }
}

/// <summary>Polly wants options for every strategy; the breaker step has none of its own.</summary>
internal sealed class BreakerStepOptions : ResilienceStrategyOptions
{
    public BreakerStepOptions() => Name = "Gateway.BreakerStep";
}
