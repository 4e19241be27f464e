using System.Diagnostics;
using System.Diagnostics.Metrics;
using static Gateway.Telemetry.TelemetryTags;

namespace Gateway.Telemetry;

/// <summary>
/// The gateway's recorded instruments, on <see cref="GatewayTelemetry.Meter"/>. Each record checks
/// <see cref="Instrument.Enabled"/> first: with nothing listening it costs a branch, and tags go in a
/// <see cref="TagList"/> (no allocation for up to eight). The observed ones (downstream state, dataset age)
/// are in <see cref="GatewayStateMetrics"/>.
/// </summary>
internal static class GatewayMetrics
{
    public static readonly Histogram<double> AggregateDuration = GatewayTelemetry.Meter.CreateHistogram<double>(
        "gateway.aggregate.duration", "ms", "Time from an aggregate request's arrival to its answer, by aggregate and HTTP status");

    public static readonly Histogram<double> SourceDuration = GatewayTelemetry.Meter.CreateHistogram<double>(
        "gateway.source.duration", "ms", "Time one source of an aggregate took (its queueing, every attempt), by aggregate, source and outcome");

    public static readonly Counter<long> CacheHits = GatewayTelemetry.Meter.CreateCounter<long>(
        "gateway.cache.hits", "{answer}", "Sources answered from a cached copy without waiting for a call, fresh or stale");

    public static readonly Counter<long> CacheMisses = GatewayTelemetry.Meter.CreateCounter<long>(
        "gateway.cache.misses", "{answer}", "Sources with a cache that had no copy to serve: waited for a call, or failed (dataset not loaded, expired)");

    public static readonly Histogram<double> CacheAge = GatewayTelemetry.Meter.CreateHistogram<double>(
        "gateway.cache.age", "ms", "Age of the cached copies served");

    public static readonly Counter<long> DatasetRefreshes = GatewayTelemetry.Meter.CreateCounter<long>(
        "gateway.cached_data.refreshes", "{refresh}", "Refreshes of cached datasets that called the downstream, by dataset and outcome");

    // Boxed once: a status code (or a small count) on a tag would otherwise box on every record.
    private static readonly object[] Statuses = [.. Enumerable.Range(0, 600).Select(s => (object)s)];

    /// <summary><paramref name="status"/> boxed, from a cache for 0 to 599.</summary>
    public static object Status(int status) => status is >= 0 and < 600 ? Statuses[status] : status;

    public static void RecordAggregate(string aggregate, int status, double elapsedMs)
    {
        if (AggregateDuration.Enabled)
        {
            AggregateDuration.Record(elapsedMs, new TagList { { Aggregate, aggregate }, { HttpStatus, Status(status) } });
        }
    }

    public static void RecordSource(string aggregate, string source, string outcome, double elapsedMs)
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
    public static void RecordCacheLookup(string cache, string aggregate, string source, bool hit, Aggregation.SourceResult result)
    {
        if (hit)
        {
            RecordHit(cache, aggregate, source, result.Cache == Aggregation.CacheState.Stale, result.AgeMs ?? 0);
        }
        else
        {
            RecordMiss(cache, aggregate, source);
        }
    }

    private static void RecordHit(string cache, string aggregate, string source, bool stale, long ageMs)
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

    private static void RecordMiss(string cache, string aggregate, string source)
    {
        if (CacheMisses.Enabled)
        {
            CacheMisses.Add(1, new TagList { { Cache, cache }, { Aggregate, aggregate }, { Source, source } });
        }
    }

    public static void RecordRefresh(string dataset, string outcome)
    {
        if (DatasetRefreshes.Enabled)
        {
            DatasetRefreshes.Add(1, new TagList { { Dataset, dataset }, { Outcome, outcome } });
        }
    }
}
