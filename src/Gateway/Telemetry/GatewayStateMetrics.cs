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
/// The instruments are static (one <see cref="GatewayTelemetry.Meter"/>); each running gateway registers its
/// catalog while it runs, so several gateways in one process (tests) each report their own downstreams.
/// </summary>
internal static class GatewayStateMetrics
{
    private static readonly Lock Lock = new();
    private static Registration[] _live = [];

    static GatewayStateMetrics()
    {
        var meter = GatewayTelemetry.Meter;
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

    /// <summary>Reports <paramref name="catalog"/>'s downstreams and datasets until the result is disposed.</summary>
    public static IDisposable Register(AggregationCatalog catalog, TimeProvider timeProvider)
    {
        var registration = new Registration(catalog, timeProvider);
        lock (Lock)
        {
            _live = [.. _live, registration];
        }

        return registration;
    }

    /// <summary>The breaker's state as a number: 0 closed, 1 open, 2 half-open, 3 isolated.</summary>
    public static int StateNumber(CircuitState state) => state switch
    {
        CircuitState.Closed => 0,
        CircuitState.Open => 1,
        CircuitState.HalfOpen => 2,
        _ => 3,
    };

    private static IEnumerable<Measurement<long>> Observe(Func<DownstreamService, long> read)
    {
        foreach (var registration in Volatile.Read(ref _live))
        {
            foreach (var downstream in registration.Catalog.Downstreams.All)
            {
                yield return new Measurement<long>(read(downstream), new KeyValuePair<string, object?>(Cluster, downstream.Id));
            }
        }
    }

    private static IEnumerable<Measurement<int>> ObserveBreakers()
    {
        foreach (var registration in Volatile.Read(ref _live))
        {
            foreach (var downstream in registration.Catalog.Downstreams.All)
            {
                if (downstream.Resilience.BreakerState is { } state)
                {
                    yield return new Measurement<int>(StateNumber(state.CircuitState), new KeyValuePair<string, object?>(Cluster, downstream.Id));
                }
            }
        }
    }

    private static IEnumerable<Measurement<double>> ObserveDatasets()
    {
        foreach (var registration in Volatile.Read(ref _live))
        {
            var time = registration.TimeProvider;
            foreach (var dataset in registration.Catalog.Datasets.All)
            {
                if (dataset.Copy is { } copy)
                {
                    var now = time.GetTimestamp();
                    var age = now <= copy.LoadedAt ? 0 : time.GetElapsedTime(copy.LoadedAt, now).TotalMilliseconds;
                    yield return new Measurement<double>(age, new KeyValuePair<string, object?>(Dataset, dataset.Name));
                }
            }
        }
    }

    private sealed class Registration(AggregationCatalog catalog, TimeProvider timeProvider) : IDisposable
    {
        public AggregationCatalog Catalog { get; } = catalog;

        public TimeProvider TimeProvider { get; } = timeProvider;

        public void Dispose()
        {
            lock (Lock)
            {
                _live = [.. _live.Where(r => !ReferenceEquals(r, this))];
            }
        }
    }
}
