using System.Diagnostics.Metrics;
using Gateway.Telemetry;
using static Gateway.Telemetry.TelemetryTags;

namespace Gateway.Caching;

/// <summary>
/// The observed age of each cached dataset's current copy, on the host's clock: nothing is counted on the hot path.
/// One per host, on its <see cref="GatewayMetrics.Meter"/>, reporting from start until stop.
/// </summary>
internal sealed class DatasetStateMetrics : ObservedWhileRunning
{
    private readonly DatasetRegistry _datasets;
    private readonly TimeProvider _timeProvider;

    public DatasetStateMetrics(GatewayMetrics metrics, DatasetRegistry datasets, TimeProvider timeProvider)
    {
        _datasets = datasets;
        _timeProvider = timeProvider;
        metrics.Meter.CreateObservableGauge("gateway.cached_data.age", Observe, "ms",
            "Age of each cached dataset's current copy (none before its first load)");
    }

    private IEnumerable<Measurement<double>> Observe()
    {
        IReadOnlyList<CachedDataset> datasets = Running ? _datasets.All : [];
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
