using System.Diagnostics;
using System.Diagnostics.Metrics;
using static Gateway.Telemetry.TelemetryTags;

namespace Gateway.Telemetry;

/// <summary>
/// The gateway's recorded instruments, on the <c>Gateway</c> meter of the host's <see cref="IMeterFactory"/> (one per
/// service provider, so that two gateways in one process, or a test's, never share instruments; disposed with the
/// provider). Each record checks <see cref="Instrument.Enabled"/> first: with nothing listening it costs a branch,
/// and tags go in a <see cref="TagList"/> (no allocation for up to eight). The observed ones (downstream state,
/// dataset age) are the features' own (<c>DownstreamStateMetrics</c>, <c>DatasetStateMetrics</c>).
/// </summary>
internal sealed class GatewayMetrics
{
    public GatewayMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(GatewayTelemetry.Name);
        AggregateDuration = Meter.CreateHistogram<double>(
            "gateway.aggregate.duration", "ms", "Time from an aggregate request's arrival to its answer, by aggregate and HTTP status");
        SourceDuration = Meter.CreateHistogram<double>(
            "gateway.source.duration", "ms", "Time one source of an aggregate took (its queueing, every attempt), by aggregate, source and outcome");
        CacheHits = Meter.CreateCounter<long>(
            "gateway.cache.hits", "{answer}", "Sources answered from a cached copy without waiting for a call, fresh or stale");
        CacheMisses = Meter.CreateCounter<long>(
            "gateway.cache.misses", "{answer}", "Sources with a cache that had no copy to serve: waited for a call, or failed (dataset not loaded, expired)");
        CacheAge = Meter.CreateHistogram<double>("gateway.cache.age", "ms", "Age of the cached copies served");
        DatasetRefreshes = Meter.CreateCounter<long>(
            "gateway.cached_data.refreshes", "{refresh}", "Refreshes of cached datasets that called the downstream, by dataset and outcome");
    }

    /// <summary>The <c>Gateway</c> meter every instrument of this host is on (the observed ones and the thread-pool lag too).</summary>
    public Meter Meter { get; }

    public Histogram<double> AggregateDuration { get; }

    public Histogram<double> SourceDuration { get; }

    public Counter<long> CacheHits { get; }

    public Counter<long> CacheMisses { get; }

    public Histogram<double> CacheAge { get; }

    public Counter<long> DatasetRefreshes { get; }

    // Boxed once: a status code (or a small count) on a tag would otherwise box on every record.
    private static readonly object[] Statuses = [.. Enumerable.Range(0, 600).Select(s => (object)s)];

    /// <summary><paramref name="status"/> boxed, from a cache for 0 to 599.</summary>
    public static object Status(int status) => status is >= 0 and < 600 ? Statuses[status] : status;

    public void RecordAggregate(string aggregate, int status, double elapsedMs)
    {
        if (AggregateDuration.Enabled)
        {
            AggregateDuration.Record(elapsedMs, new TagList { { Aggregate, aggregate }, { HttpStatus, Status(status) } });
        }
    }

    public void RecordSource(string aggregate, string source, string outcome, double elapsedMs)
    {
        if (SourceDuration.Enabled)
        {
            SourceDuration.Record(elapsedMs, new TagList { { Aggregate, aggregate }, { Source, source }, { Outcome, outcome } });
        }
    }

    /// <summary>
    /// A source with a cache (<paramref name="cache"/>: <c>dataset</c> or <c>response</c>) looked it up: a hit, fresh or
    /// stale, with the copy's age (from <paramref name="result"/>), or a miss.
    /// </summary>
    public void RecordCacheLookup(string cache, string aggregate, string source, bool hit, Model.SourceResult result)
    {
        if (hit)
        {
            RecordHit(cache, aggregate, source, result.Cache == Model.CacheState.Stale, result.AgeMs ?? 0);
        }
        else
        {
            RecordMiss(cache, aggregate, source);
        }
    }

    private void RecordHit(string cache, string aggregate, string source, bool stale, long ageMs)
    {
        if (CacheHits.Enabled)
        {
            CacheHits.Add(1, new TagList { { Cache, cache }, { Aggregate, aggregate }, { Source, source }, { CacheState, stale ? "stale" : "fresh" } });
        }

        if (CacheAge.Enabled)
        {
            CacheAge.Record(ageMs, new TagList { { Cache, cache }, { Aggregate, aggregate }, { Source, source } });
        }
    }

    private void RecordMiss(string cache, string aggregate, string source)
    {
        if (CacheMisses.Enabled)
        {
            CacheMisses.Add(1, new TagList { { Cache, cache }, { Aggregate, aggregate }, { Source, source } });
        }
    }

    public void RecordRefresh(string dataset, string outcome)
    {
        if (DatasetRefreshes.Enabled)
        {
            DatasetRefreshes.Add(1, new TagList { { Dataset, dataset }, { Outcome, outcome } });
        }
    }
}
