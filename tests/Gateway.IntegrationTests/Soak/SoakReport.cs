using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Gateway.IntegrationTests.Soak;

/// <summary>
/// The figures of one soak run and what they are judged by: the managed heap's least-squares slope over the samples
/// after the settling time, in % of those samples' mean a minute, and the peak resident memory (VmHWM at the end)
/// against <c>MaxBytes + k × idle RSS</c>. Written as soak.csv (the series), soak.json and soak.txt.
/// </summary>
internal sealed class SoakReport(SoakSettings settings, long idleRssBytes, IReadOnlyList<MemorySample> samples, SoakTraffic traffic, string gatewayLogSizes)
{
    private const double MiB = 1024 * 1024;

    public IReadOnlyList<MemorySample> Plateau => [.. samples.Where(s => s.At.TotalSeconds >= settings.SettleSeconds)];

    /// <summary>The live heap's slope after the settling time, % of its mean there per minute.</summary>
    public double HeapSlopePercent => SlopePercent(Plateau, s => s.LiveHeapBytes);

    public double RssSlopePercent => SlopePercent(Plateau, s => s.RssBytes);

    public long PeakRssBytes => samples.Max(s => s.PeakRssBytes);

    public long RssLimitBytes => settings.CacheMaxBytes + (long)(settings.RssFactor * idleRssBytes);

    public bool HeapPlateaus => HeapSlopePercent < settings.MaxHeapSlopePercent;

    public bool RssWithinLimit => PeakRssBytes < RssLimitBytes;

    public string Summary
    {
        get
        {
            var text = new StringBuilder();
            var c = CultureInfo.InvariantCulture;
            var plateau = Plateau;
            text.AppendLine(c, $"soak: {settings.Seconds} s of mixed traffic, {settings.Concurrency} in flight, {(settings.Rate > 0 ? settings.Rate.ToString(c) + " requests/s at most" : "unpaced")}; Gateway:Cache:MaxBytes {settings.CacheMaxMib} MiB, bodies of {settings.BodyBytes} B; a sample every {settings.SampleSeconds} s");
            text.AppendLine(c, $"  requests: {traffic.Completed} ({traffic.Completed / (double)settings.Seconds:F0}/s)");
            for (var i = 0; i < traffic.Kinds.Count; i++)
            {
                text.AppendLine(c, $"    {traffic.Kinds[i].Name,-10} {traffic.Kinds[i].What,-58} {SoakTraffic.Format(traffic.Counters[i])}");
            }

            text.AppendLine(c, $"  idle RSS (after the first answers, before load): {idleRssBytes / MiB:F1} MiB");
            text.AppendLine(c, $"  live heap after {settings.SettleSeconds} s: {plateau.Min(s => s.LiveHeapBytes) / MiB:F1} to {plateau.Max(s => s.LiveHeapBytes) / MiB:F1} MiB, mean {plateau.Average(s => s.LiveHeapBytes) / MiB:F1} MiB, slope {HeapSlopePercent:F2} %/min (bound < {settings.MaxHeapSlopePercent} %/min): {(HeapPlateaus ? "PASS" : "FAIL")}");
            text.AppendLine(c, $"  heap as the last collection left it, after {settings.SettleSeconds} s: {plateau.Min(s => s.HeapBytes) / MiB:F1} to {plateau.Max(s => s.HeapBytes) / MiB:F1} MiB, slope {SlopePercent(plateau, s => s.HeapBytes):F2} %/min");
            text.AppendLine(c, $"  RSS after {settings.SettleSeconds} s: {plateau.Min(s => s.RssBytes) / MiB:F1} to {plateau.Max(s => s.RssBytes) / MiB:F1} MiB, slope {RssSlopePercent:F2} %/min");
            text.AppendLine(c, $"  peak RSS (VmHWM) {PeakRssBytes / MiB:F1} MiB, bound < MaxBytes + {settings.RssFactor} x idle = {RssLimitBytes / MiB:F1} MiB: {(RssWithinLimit ? "PASS" : "FAIL")}");
            text.AppendLine(c, $"  gateway output: {gatewayLogSizes}");
            text.AppendLine("  series (s, RSS MiB, heap MiB (last collection), live heap MiB (after a full one), committed MiB, gen2 GCs, requests/s):");
            MemorySample? previous = null;
            foreach (var s in samples)
            {
                var rate = previous is null ? 0 : (s.Requests - previous.Requests) / (s.At - previous.At).TotalSeconds;
                text.AppendLine(c, $"    {s.At.TotalSeconds,6:F0} {s.RssBytes / MiB,8:F1} {s.HeapBytes / MiB,8:F1} {s.LiveHeapBytes / MiB,8:F1} {s.CommittedBytes / MiB,8:F1} {s.Gen2Collections,6} {rate,8:F0}");
                previous = s;
            }

            return text.ToString();
        }
    }

    public async Task WriteAsync()
    {
        Directory.CreateDirectory(settings.Artifacts);
        var c = CultureInfo.InvariantCulture;
        var csv = new StringBuilder("seconds,rss_mib,peak_rss_mib,heap_mib,live_heap_mib,committed_mib,gen2_collections,requests\n");
        foreach (var s in samples)
        {
            csv.AppendLine(c, $"{s.At.TotalSeconds:F1},{s.RssBytes / MiB:F2},{s.PeakRssBytes / MiB:F2},{s.HeapBytes / MiB:F2},{s.LiveHeapBytes / MiB:F2},{s.CommittedBytes / MiB:F2},{s.Gen2Collections},{s.Requests}");
        }

        var summary = new
        {
            settings.Seconds,
            settings.SampleSeconds,
            settings.SettleSeconds,
            settings.Concurrency,
            settings.Rate,
            settings.CacheMaxMib,
            settings.BodyBytes,
            Requests = traffic.Completed,
            Kinds = traffic.Kinds.Select((k, i) => new
            {
                k.Name,
                k.What,
                Statuses = traffic.Counters[i].Statuses.OrderBy(s => s.Key).ToDictionary(s => s.Key.ToString(c), s => s.Value),
                traffic.Counters[i].Expected,
                traffic.Counters[i].Unexpected,
                traffic.Counters[i].NoAnswer,
            }),
            IdleRssMib = Math.Round(idleRssBytes / MiB, 1),
            HeapSlopePercentPerMinute = Math.Round(HeapSlopePercent, 3),
            settings.MaxHeapSlopePercent,
            HeapPlateaus,
            RssSlopePercentPerMinute = Math.Round(RssSlopePercent, 3),
            PeakRssMib = Math.Round(PeakRssBytes / MiB, 1),
            RssLimitMib = Math.Round(RssLimitBytes / MiB, 1),
            settings.RssFactor,
            RssWithinLimit,
        };
        await File.WriteAllTextAsync(Path.Combine(settings.Artifacts, "soak.csv"), csv.ToString());
        await File.WriteAllTextAsync(Path.Combine(settings.Artifacts, "soak.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
        await File.WriteAllTextAsync(Path.Combine(settings.Artifacts, "soak.txt"), Summary);
    }

    /// <summary>Least-squares slope of <paramref name="value"/> over minutes, as % of its mean per minute.</summary>
    internal static double SlopePercent(IReadOnlyList<MemorySample> points, Func<MemorySample, long> value)
    {
        Assert.True(points.Count >= 3, $"{points.Count} samples after the settling time: too few for a slope");
        var meanX = points.Average(p => p.Minutes);
        var meanY = points.Average(p => (double)value(p));
        var covariance = points.Sum(p => (p.Minutes - meanX) * (value(p) - meanY));
        var variance = points.Sum(p => (p.Minutes - meanX) * (p.Minutes - meanX));
        return 100 * covariance / variance / meanY;
    }
}
