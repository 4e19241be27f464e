using Gateway.Caching;
using Gateway.Model;

namespace Gateway.Management;

/// <summary>One dataset as <c>GET /gateway/cache</c> shows it; durations in whole milliseconds.</summary>
internal sealed record DatasetReport(
    string Name,
    string Cluster,
    string Path,
    bool Required,
    bool Used,
    bool Loaded,
    string? Cache,
    long? AgeMs,
    int? Bytes,
    string? LastOutcome,
    string? LastMessage,
    long? LastRefreshAgoMs,
    int FailuresInRow,
    bool Refreshing,
    long? NextRefreshInMs,
    string? Origin,
    bool? LeaseHeld)
{
    /// <param name="shared">Whether instances share datasets through Redis (<c>leaseHeld</c> is null when not).</param>
    public static DatasetReport From(CachedDataset dataset, TimeProvider timeProvider, bool shared = false)
    {
        var now = timeProvider.GetTimestamp();
        var age = dataset.Classify(now, out var copy, out var ageMs);
        var last = dataset.LastRefresh;
        var next = dataset.NextRefreshAt;
        return new DatasetReport(
            dataset.Name,
            dataset.Definition.Downstream.Id,
            dataset.Definition.Path.Text,
            dataset.Definition.Required,
            dataset.IsUsed,
            copy is not null,
            age switch { CopyAge.Fresh => "fresh", CopyAge.Stale => "stale", CopyAge.Expired => "expired", _ => null },
            copy is null ? null : ageMs,
            copy?.Body.Length,
            last?.Outcome.ToName(),
            last?.Message,
            last is null ? null : Milliseconds(timeProvider, last.At, now),
            dataset.FailuresInRow,
            dataset.IsPending,
            next == long.MaxValue || dataset.IsPending ? null : next <= now ? 0 : Milliseconds(timeProvider, now, next),
            copy is null ? null : copy.Origin == CopyOrigin.Redis ? "redis" : "downstream",
            shared ? dataset.LeaseHeld : null);
    }

    private static long Milliseconds(TimeProvider timeProvider, long from, long to) =>
        to <= from ? 0 : (long)timeProvider.GetElapsedTime(from, to).TotalMilliseconds;
}
