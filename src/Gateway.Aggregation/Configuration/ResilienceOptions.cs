using Polly;

namespace Gateway.Configuration;

/// <summary>
/// The resilience strategies of one downstream (<c>Gateway:Downstreams:{cluster}:Resilience</c>), run by Polly.
/// Each strategy is off unless its section is present.
/// </summary>
public sealed record ResilienceOptions
{
    /// <summary>Timeout of one attempt; an attempt that runs out is a transient failure (retried, counted by the breaker).</summary>
    /// <value>Defaults to none: an attempt is bounded by the source's timeout only.</value>
    public TimeSpan? AttemptTimeout { get; init; }

    /// <summary>Retries of transient failures (Polly's retry strategy); none when absent.</summary>
    public RetryOptions? Retry { get; init; }

    /// <summary>The cluster's circuit breaker (Polly's), shared by its aggregate calls, refreshes and routes; none when absent.</summary>
    public CircuitBreakerOptions? CircuitBreaker { get; init; }

    /// <summary>Hedged attempts on another destination when the first is slow (Polly's hedging); none when absent.</summary>
    public HedgingOptions? Hedging { get; init; }

    /// <summary>
    /// An empty strategy section (<c>"CircuitBreaker": {}</c>) means that strategy with its defaults. .NET
    /// configuration keeps an empty JSON object as a key without value, and the binder skips such a key: the
    /// strategy would be off without a word. Applied to every <c>Gateway:Downstreams:{id}:Resilience</c>.
    /// </summary>
    internal static void KeepEmptyStrategies(GatewayOptions options, IConfigurationSection gateway)
    {
        foreach (var (id, downstream) in options.Downstreams.ToList())
        {
            var present = gateway.GetSection($"Downstreams:{id}:Resilience").GetChildren().Select(c => c.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
            if (present.Count == 0)
            {
                continue;
            }

            var resilience = downstream.Resilience ?? new ResilienceOptions();
            options.Downstreams[id] = downstream with
            {
                Resilience = resilience with
                {
                    Retry = resilience.Retry ?? (present.Contains(nameof(Retry)) ? new RetryOptions() : null),
                    CircuitBreaker = resilience.CircuitBreaker ?? (present.Contains(nameof(CircuitBreaker)) ? new CircuitBreakerOptions() : null),
                    Hedging = resilience.Hedging ?? (present.Contains(nameof(Hedging)) ? new HedgingOptions() : null),
                },
            };
        }
    }
}

/// <summary>Retries of transient failures (connection failure, 408, 429, 5xx, the attempt's own timeout).</summary>
public sealed record RetryOptions
{
    /// <summary>Retries after the first attempt.</summary>
    /// <value>Defaults to 3 (Polly's default).</value>
    public int MaxRetryAttempts { get; init; } = 3;

    /// <summary>Base delay before a retry; a <c>Retry-After</c> from the downstream takes its place.</summary>
    /// <value>Defaults to 100 ms (Polly's 2 s would outlast a typical source timeout).</value>
    public TimeSpan Delay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How the delay grows: Constant, Linear or Exponential.</summary>
    /// <value>Defaults to Exponential (as the .NET standard resilience handler).</value>
    public DelayBackoffType BackoffType { get; init; } = DelayBackoffType.Exponential;

    /// <summary>Whether delays are randomised, so that callers do not retry in lockstep.</summary>
    /// <value>Defaults to true (as the .NET standard resilience handler).</value>
    public bool UseJitter { get; init; } = true;

    /// <summary>Retries in flight may be at most this share of the calls in flight to the downstream (Envoy's retry budget).</summary>
    /// <value>Defaults to 20.</value>
    public double BudgetPercent { get; init; } = 20;

    /// <summary>Retries in flight always allowed, whatever <see cref="BudgetPercent"/> says.</summary>
    /// <value>Defaults to 3 (Envoy's <c>min_retry_concurrency</c>).</value>
    public int MinRetryConcurrency { get; init; } = 3;
}

/// <summary>One circuit breaker per cluster, shared by every aggregate and route that calls it.</summary>
public sealed record CircuitBreakerOptions
{
    /// <summary>Share of failed calls in the sampling window that opens the circuit.</summary>
    /// <value>Defaults to 0.1 (Polly's default).</value>
    public double FailureRatio { get; init; } = 0.1;

    /// <summary>Calls the window must hold before the ratio counts.</summary>
    /// <value>Defaults to 100 (Polly's default).</value>
    public int MinimumThroughput { get; init; } = 100;

    /// <summary>Length of the sampling window.</summary>
    /// <value>Defaults to 30 seconds (Polly's default).</value>
    public TimeSpan SamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the circuit stays open before one probe goes through.</summary>
    /// <value>Defaults to 5 seconds (Polly's default).</value>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>Hedging: after <see cref="Delay"/> without an answer, another attempt to another destination; the first answer wins.</summary>
public sealed record HedgingOptions
{
    /// <summary>Wait before sending a hedged attempt.</summary>
    /// <value>Defaults to 200 ms.</value>
    public TimeSpan Delay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Hedged attempts besides the first one.</summary>
    /// <value>Defaults to 1.</value>
    public int MaxHedgedAttempts { get; init; } = 1;
}
