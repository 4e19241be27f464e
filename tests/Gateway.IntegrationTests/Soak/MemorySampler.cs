using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;

namespace Gateway.IntegrationTests.Soak;

/// <summary>
/// One sample of the gateway's memory, <see cref="At"/> after the load started: resident memory (now and its peak so far),
/// the managed heap as the gateway's last collection left it, and its live heap after a full collection.
/// </summary>
internal sealed record MemorySample(TimeSpan At, long RssBytes, long PeakRssBytes, long HeapBytes, long LiveHeapBytes, long CommittedBytes, long Gen2Collections, long Requests)
{
    public double Minutes => At.TotalMinutes;
}

/// <summary>
/// Reads the gateway's memory from outside, as an operator would. Resident memory from <c>/proc/{pid}/status</c>
/// (<c>VmRSS</c>, and <c>VmHWM</c>, its peak so far). The managed heap from the gateway's own Prometheus <c>/metrics</c>
/// (the runtime's <c>System.Runtime</c> meter): the sum over generations of <c>dotnet_gc_last_collection_heap_size_bytes</c>
/// less <c>dotnet_gc_last_collection_heap_fragmentation_size_bytes</c> (free space between objects, which a sweeping
/// collection leaves and a compacting one does not), the objects as the last collection left them. That figure saws up and down with the full collections (a body evicted from
/// the cache after it reached gen2 stays counted until the next one), too much for a slope over a minute; so each sample
/// then asks the runtime for a full blocking collection through its diagnostics port (an EventPipe session with the
/// <c>GCHeapCollect</c> keyword, as <c>dotnet-gcdump</c> does) and reads the same series again: the live heap.
/// </summary>
internal sealed class MemorySampler(int processId, HttpClient metrics)
{
    private const string HeapSeries = "dotnet_gc_last_collection_heap_size_bytes{";
    private const string FragmentationSeries = "dotnet_gc_last_collection_heap_fragmentation_size_bytes{";
    private const string CommittedSeries = "dotnet_gc_last_collection_memory_committed_size_bytes{";
    private const string CollectionsSeries = "dotnet_gc_collections_total{";
    private const long GCHeapCollectKeyword = 0x800000;

    public (long Rss, long PeakRss) ReadRss()
    {
        long rss = -1, peak = -1;
        foreach (var line in File.ReadLines($"/proc/{processId}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kilobytes(line) * 1024;
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kilobytes(line) * 1024;
            }
        }

        Assert.True(rss > 0 && peak > 0, $"no VmRSS/VmHWM in /proc/{processId}/status");
        return (rss, peak);
    }

    /// <summary>RSS and the heap as they are, then a full collection and the live heap.</summary>
    public async Task<MemorySample> SampleAsync(TimeSpan at, long requests, CancellationToken cancellationToken)
    {
        var (rss, peak) = ReadRss();
        var before = await ReadHeapAsync(cancellationToken);
        var after = await CollectAsync(before.Gen2, cancellationToken);
        return new MemorySample(at, rss, peak, before.Heap, after.Heap, before.Committed, before.Gen2, requests);
    }

    private async Task<(long Heap, long Committed, long Gen2)> CollectAsync(long gen2Before, CancellationToken cancellationToken)
    {
        var client = new DiagnosticsClient(processId);
        var provider = new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, GCHeapCollectKeyword);
        using var session = await client.StartEventPipeSessionAsync([provider], requestRundown: false, circularBufferMB: 4, cancellationToken);
        var drain = session.EventStream.CopyToAsync(Stream.Null, cancellationToken);
        try
        {
            // The scrape endpoint caches its answer for a moment: poll until it shows the collection (bounded).
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var heap = await ReadHeapAsync(cancellationToken);
                if (heap.Gen2 > gen2Before)
                {
                    return heap;
                }

                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the gateway made no full collection within 10 s of the diagnostics request");
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
        }
        finally
        {
            await session.StopAsync(cancellationToken);
            await drain;
        }
    }

    private async Task<(long Heap, long Committed, long Gen2)> ReadHeapAsync(CancellationToken cancellationToken)
    {
        var text = await metrics.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancellationToken);
        long heap = 0, committed = 0, gen2 = 0;
        var heapSeries = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(HeapSeries, StringComparison.Ordinal))
            {
                heap += Value(line);
                heapSeries++;
            }
            else if (line.StartsWith(FragmentationSeries, StringComparison.Ordinal))
            {
                heap -= Value(line);
            }
            else if (line.StartsWith(CommittedSeries, StringComparison.Ordinal))
            {
                committed = Value(line);
            }
            else if (line.StartsWith(CollectionsSeries, StringComparison.Ordinal) && line.Contains("gc_heap_generation=\"gen2\"", StringComparison.Ordinal))
            {
                gen2 = Value(line);
            }
        }

        Assert.True(heapSeries > 0, $"/metrics has no {HeapSeries}...}} series (Gateway:Telemetry:Prometheus and the runtime instrumentation are needed)");
        return (heap, committed, gen2);
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], NumberStyles.None, CultureInfo.InvariantCulture);

    // "name{labels} value [timestamp]"
    private static long Value(string line)
    {
        var parts = line[(line.LastIndexOf('}') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long)double.Parse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}
