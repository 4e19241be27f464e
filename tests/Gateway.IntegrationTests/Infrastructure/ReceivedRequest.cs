namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>One request a <see cref="TestDownstream"/> received, as it arrived on the wire.</summary>
public sealed class ReceivedRequest
{
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _finishedAt;

    public required string Method { get; init; }

    /// <summary>The request target exactly as sent (path and query, still percent-encoded).</summary>
    public required string RawTarget { get; init; }

    /// <summary>The path as the server decoded and routed it.</summary>
    public required string Path { get; init; }

    /// <summary>Query values as the server decoded them.</summary>
    public required IReadOnlyDictionary<string, string> Query { get; init; }

    /// <summary>Request headers, names case-insensitive, repeated values joined with a comma.</summary>
    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    /// <summary>When it arrived, on <see cref="EventClock"/>.</summary>
    public required long ArrivedAt { get; init; }

    /// <summary>When the endpoint returned, on <see cref="EventClock"/>; 0 while it runs.</summary>
    public long FinishedAt => Volatile.Read(ref _finishedAt);

    /// <summary>Completes when the caller went away (the connection was aborted) while the request ran.</summary>
    public Task Aborted => _aborted.Task;

    /// <summary>Completes when the endpoint has returned.</summary>
    public Task Finished => _finished.Task;

    public bool WasAborted => _aborted.Task.IsCompleted;

    /// <summary>The path of <see cref="RawTarget"/> split at '/', without the leading empty segment.</summary>
    public string[] RawSegments
    {
        get
        {
            var query = RawTarget.IndexOf('?', StringComparison.Ordinal);
            var path = query < 0 ? RawTarget : RawTarget[..query];
            return path.TrimStart('/').Split('/');
        }
    }

    /// <summary>The query of <see cref="RawTarget"/> (without '?'), or empty.</summary>
    public string RawQuery
    {
        get
        {
            var query = RawTarget.IndexOf('?', StringComparison.Ordinal);
            return query < 0 ? "" : RawTarget[(query + 1)..];
        }
    }

    internal void MarkAborted() => _aborted.TrySetResult();

    internal void MarkFinished()
    {
        Interlocked.CompareExchange(ref _finishedAt, EventClock.Next(), 0);
        _finished.TrySetResult();
    }

    public override string ToString() => $"{Method} {RawTarget}";
}

/// <summary>A process-wide logical clock: orders events across downstreams and threads.</summary>
public static class EventClock
{
    private static long _now;

    public static long Next() => Interlocked.Increment(ref _now);
}
