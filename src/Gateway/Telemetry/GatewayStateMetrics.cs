using System.Diagnostics.Metrics;
using Gateway.Aggregation;
using Gateway.Caching;
using Gateway.Downstream;
using Polly.CircuitBreaker;
using static Gateway.Telemetry.TelemetryTags;

namespace Gateway.Telemetry;

/// <summary>
/// Observed instruments reading state that exists anyway: each downstream's concurrency limiter (calls in
/// flight, queued, rejected), its circuit breaker, each dataset's copy. Nothing is counted on the hot path.
/// One per host, on its <see cref="GatewayMetrics.Meter"/>, reading its own catalog from start until stop.
/// </summary>
internal sealed class GatewayStateMetrics : IHostedService
{
    private readonly AggregationCatalog _catalog;
    private readonly TimeProvider _timeProvider;
    private volatile bool _running;

    public GatewayStateMetrics(GatewayMetrics metrics, AggregationCatalog catalog, TimeProvider timeProvider)
    {
        _catalog = catalog;
        _timeProvider = timeProvider;
        var meter = metrics.Meter;
        meter.CreateObservableUpDownCounter("gateway.downstream.in_flight", () => Observe(static d => d.InFlight), "{call}",
            "Calls (aggregate sources, dataset refreshes, proxied requests) holding a concurrency slot of the downstream");
        meter.CreateObservableUpDownCounter("gateway.downstream.queued", () => Observe(static d => d.Limiter.GetStatistics()?.CurrentQueuedCount ?? 0), "{call}",
            "Calls waiting for a concurrency slot of the downstream");
        meter.CreateObservableCounter("gateway.downstream.rejected", () => Observe(static d => d.Rejected), "{call}",
            "Calls refused at once because the downstream's queue was full");
        meter.CreateObservableGauge("gateway.downstream.breaker.state", ObserveBreakers, "{state}",
            "Circuit breaker of the downstream: 0 closed, 1 open, 2 half-open, 3 isolated (only downstreams with a breaker)");
        meter.CreateObservableGauge("gateway.cached_data.age", ObserveDatasets, "ms",
            "Age of each cached dataset's current copy (none before its first load)");
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _running = true;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _running = false;
        return Task.CompletedTask;
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
        IEnumerable<DownstreamService> downstreams = _running ? _catalog.Downstreams.All : [];
        foreach (var downstream in downstreams)
        {
            yield return new Measurement<long>(read(downstream), new KeyValuePair<string, object?>(Cluster, downstream.Id));
        }
    }

    private IEnumerable<Measurement<int>> ObserveBreakers()
    {
        IEnumerable<DownstreamService> downstreams = _running ? _catalog.Downstreams.All : [];
        foreach (var downstream in downstreams)
        {
            if (downstream.Resilience.BreakerState is { } state)
            {
                yield return new Measurement<int>(StateNumber(state.CircuitState), new KeyValuePair<string, object?>(Cluster, downstream.Id));
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveDatasets()
    {
        IReadOnlyList<CachedDataset> datasets = _running ? _catalog.Datasets.All : [];
        foreach (var dataset in datasets)
        {
            if (dataset.Copy is { } copy)
            {
                var now = _timeProvider.GetTimestamp();
                var age = now <= copy.LoadedAt ? 0 : _timeProvider.GetElapsedTime(copy.LoadedAt, now).TotalMilliseconds;
                yield return new Measurement<double>(age, new KeyValuePair<string, object?>(Dataset, dataset.Name));
            }
        }
    }
}
