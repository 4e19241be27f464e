namespace Gateway.Model;

/// <summary>The result of one source: its JSON on success, else the error kind and a message for the client.</summary>
internal sealed class SourceResult
{
    private SourceResult(SourceOutcome outcome, int? status, long elapsedMs, string? message, SourceBody? body, SourceOutcome cause)
    {
        Outcome = outcome;
        Status = status;
        ElapsedMs = elapsedMs;
        Message = message;
        Body = body;
        Cause = cause;
    }

    public SourceOutcome Outcome { get; }

    /// <summary>The downstream's HTTP status, when it answered.</summary>
    public int? Status { get; }

    public long ElapsedMs { get; }

    /// <summary>What happened, for the client: names the source's role, never an address.</summary>
    public string? Message { get; }

    /// <summary>The validated JSON, on success: the request's own (pooled) or a cached copy shared with others.</summary>
    public SourceBody? Body { get; }

    /// <summary>The failure behind this one: itself, or for a skipped source the failure of the input that caused it.</summary>
    public SourceOutcome Cause { get; }

    public bool IsOk => Outcome == SourceOutcome.Ok;

    /// <summary>Attempts sent (retries and hedges included); 0 when the call was not sent.</summary>
    public int Attempts { get; private set; }

    /// <summary>How long the call waited for a concurrency slot; null when it got one at once.</summary>
    public long? QueuedMs { get; private set; }

    /// <summary>When the gateway refused the call (rejected, circuit open): how soon trying again makes sense.</summary>
    public TimeSpan? RetryAfter { get; private set; }

    /// <summary>For a source served from a cached copy: whether the copy is fresh or stale.</summary>
    public CacheState Cache { get; private init; }

    /// <summary>Served from a stored copy without waiting for a call (false for the answer of a call this request waited for).</summary>
    public bool CacheHit { get; private init; }

    /// <summary>For a source served from a cached copy (or refused as too old): the copy's age.</summary>
    public long? AgeMs { get; private init; }

    /// <summary>Adds what the call went through; only while the result is still private to its call.</summary>
    public SourceResult With(int attempts, long? queuedMs, TimeSpan? retryAfter = null)
    {
        Attempts = attempts;
        QueuedMs = queuedMs;
        RetryAfter = retryAfter;
        return this;
    }

    public static SourceResult Ok(int status, long elapsedMs, SourceBody body) =>
        new(SourceOutcome.Ok, status, elapsedMs, null, body, SourceOutcome.Ok);

    /// <summary>Served from memory: <paramref name="body"/> is shared with every other request reading it.</summary>
    public static SourceResult Cached(int status, StoredBody body, long ageMs, CacheState cache, long elapsedMs = 0, bool hit = true) =>
        new(SourceOutcome.Ok, status, elapsedMs, null, body, SourceOutcome.Ok) { Cache = cache, AgeMs = ageMs, CacheHit = hit };

    /// <summary>The cached copy is older than it may be served.</summary>
    public static SourceResult Expired(long ageMs, string message) =>
        new(SourceOutcome.StaleExpired, null, 0, message, null, SourceOutcome.StaleExpired) { AgeMs = ageMs };

    public static SourceResult Failed(SourceOutcome outcome, long elapsedMs, string message, int? status = null) =>
        new(outcome, status, elapsedMs, message, null, outcome);

    public static SourceResult Skipped(string message, SourceOutcome cause) =>
        new(SourceOutcome.Skipped, null, 0, message, null, cause);
}

/// <summary>Whether a source served from memory got a fresh or a stale copy; <see cref="None"/> for a call.</summary>
internal enum CacheState
{
    None,
    Fresh,
    Stale,
}
