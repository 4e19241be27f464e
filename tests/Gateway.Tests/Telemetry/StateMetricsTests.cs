using System.Diagnostics.Metrics;
using Gateway.Aggregation;
using Gateway.Caching;
using Gateway.Downstream;
using Gateway.Tests.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Telemetry;

/// <summary>The observed instruments (downstreams', datasets') read the live state of their own gateway, on its own clock.</summary>
public sealed class StateMetricsTests
{
    [Fact]
    public async Task Observe_StartedUntilStopped_ReportsDatasetAgeOnItsClockAndSlotsInUse()
    {
        var cluster = "c" + Guid.NewGuid().ToString("N")[..8];
        var dataset = "d" + Guid.NewGuid().ToString("N")[..8];
        var time = new FakeTimeProvider();
        var catalog = AggregationCatalogTests.Load($$"""
            {
              "ReverseProxy": { "Clusters": { "{{cluster}}": { "Destinations": { "a": { "Address": "http://users.test/" } } } } },
              "Gateway": {
                "Downstreams": { "{{cluster}}": { "MaxConcurrency": 4 } },
                "CachedData": { "{{dataset}}": { "Cluster": "{{cluster}}", "Path": "/list", "RefreshInterval": "1m" } }
              }
            }
            """, time);
        catalog.ThrowIfInvalid();
        Assert.True(catalog.Datasets.TryGet(dataset, out var data));
        Assert.True(catalog.Downstreams.TryGet(cluster, out var downstream));
        data.Loaded("[1]"u8.ToArray(), 200, time.GetTimestamp(), time.GetUtcNow().ToUnixTimeMilliseconds());
        using var lease = downstream.Limiter.AttemptAcquire();
        downstream.CountRejected();

        var metrics = TestMetrics.Create();
        IHostedService[] state = [new DownstreamStateMetrics(metrics, catalog.Downstreams), new DatasetStateMetrics(metrics, catalog.Datasets, time)];
        Assert.Empty(Observe(metrics.Meter));

        foreach (var part in state)
        {
            await part.StartAsync(CancellationToken.None);
        }

        time.Advance(TimeSpan.FromSeconds(5));
        var seen = Observe(metrics.Meter);

        Assert.Equal(5000d, seen[("gateway.cached_data.age", dataset)]);
        Assert.Equal(1d, seen[("gateway.downstream.in_flight", cluster)]);
        Assert.Equal(0d, seen[("gateway.downstream.queued", cluster)]);
        Assert.Equal(1d, seen[("gateway.downstream.rejected", cluster)]);
        Assert.False(seen.ContainsKey(("gateway.downstream.breaker.state", cluster)), "a downstream without a breaker has no breaker state");

        foreach (var part in state)
        {
            await part.StopAsync(CancellationToken.None);
        }

        Assert.Empty(Observe(metrics.Meter));
    }

    [Fact]
    public async Task Observe_TwoGatewaysInOneProcess_EachMeterReportsOnlyItsOwnDownstreams()
    {
        var time = new FakeTimeProvider();
        var (first, firstCluster) = Catalog(time);
        var (second, secondCluster) = Catalog(time);
        var firstMetrics = TestMetrics.Create();
        var secondMetrics = TestMetrics.Create();
        await new DownstreamStateMetrics(firstMetrics, first.Downstreams).StartAsync(CancellationToken.None);
        await new DownstreamStateMetrics(secondMetrics, second.Downstreams).StartAsync(CancellationToken.None);

        var seenByFirst = Observe(firstMetrics.Meter);

        Assert.Contains(("gateway.downstream.in_flight", firstCluster), seenByFirst.Keys);
        Assert.DoesNotContain(seenByFirst.Keys, k => k.Tag == secondCluster);
        Assert.NotSame(firstMetrics.Meter, secondMetrics.Meter);
        Assert.Equal("Gateway", firstMetrics.Meter.Name);
    }

    private static (AggregationCatalog Catalog, string Cluster) Catalog(TimeProvider time)
    {
        var cluster = "c" + Guid.NewGuid().ToString("N")[..8];
        var catalog = AggregationCatalogTests.Load($$"""
            { "ReverseProxy": { "Clusters": { "{{cluster}}": { "Destinations": { "a": { "Address": "http://users.test/" } } } } } }
            """, time);
        catalog.ThrowIfInvalid();
        return (catalog, cluster);
    }

    private static Dictionary<(string Instrument, string Tag), double> Observe(Meter meter)
    {
        var seen = new Dictionary<(string, string), double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                seen[(instrument.Name, tag.Value?.ToString() ?? "")] = value;
            }
        }

        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }
}
