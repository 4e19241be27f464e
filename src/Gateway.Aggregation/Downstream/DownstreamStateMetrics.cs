using System.Diagnostics.Metrics;
using Gateway.Telemetry;
using Polly.CircuitBreaker;
using static Gateway.Telemetry.TelemetryTags;

namespace Gateway.Downstream;

/// <summary>
/// Observed instruments reading each downstream's state, which exists anyway: its concurrency limiter (calls in
/// flight, queued, rejected) and its circuit breaker. Nothing is counted on the hot path. One per host, on its
/// <see cref="GatewayMetrics.Meter"/>, reporting from start until stop.
/// </summary>
internal sealed class DownstreamStateMetrics : ObservedWhileRunning
{
    private readonly DownstreamRegistry _downstreams;

    public DownstreamStateMetrics(GatewayMetrics metrics, DownstreamRegistry downstreams)
    {
        _downstreams = downstreams;
        var meter = metrics.Meter;
        meter.CreateObservableUpDownCounter("gateway.downstream.in_flight", () => Observe(static d => d.InFlight), "{call}",
            "Calls (aggregate sources, dataset refreshes, proxied requests) holding a concurrency slot of the downstream");
        meter.CreateObservableUpDownCounter("gateway.downstream.queued", () => Observe(static d => d.Limiter.GetStatistics()?.CurrentQueuedCount ?? 0), "{call}",
            "Calls waiting for a concurrency slot of the downstream");
        meter.CreateObservableCounter("gateway.downstream.rejected", () => Observe(static d => d.Rejected), "{call}",
            "Calls refused at once because the downstream's queue was full");
        meter.CreateObservableGauge("gateway.downstream.breaker.state", ObserveBreakers, "{state}",
            "Circuit breaker of the downstream: 0 closed, 1 open, 2 half-open, 3 isolated (only downstreams with a breaker)");
    }

    /// <summary>The breaker's state as a number: 0 closed, 1 open, 2 half-open, 3 isolated.</summary>
    public static int StateNumber(CircuitState state) => state switch
    {
        CircuitState.Closed => 0,
        CircuitState.Open => 1,
        CircuitState.HalfOpen => 2,
        _ => 3,
    };

    private IEnumerable<Measurement<long>> Observe(Func<DownstreamService, long> read)
    {
        IEnumerable<DownstreamService> downstreams = Running ? _downstreams.All : [];
        foreach (var downstream in downstreams)
        {
            yield return new Measurement<long>(read(downstream), new KeyValuePair<string, object?>(Cluster, downstream.Id));
        }
    }

    private IEnumerable<Measurement<int>> ObserveBreakers()
    {
        IEnumerable<DownstreamService> downstreams = Running ? _downstreams.All : [];
        foreach (var downstream in downstreams)
        {
            if (downstream.Resilience.BreakerState is { } state)
            {
                yield return new Measurement<int>(StateNumber(state.CircuitState), new KeyValuePair<string, object?>(Cluster, downstream.Id));
            }
        }
    }
}
