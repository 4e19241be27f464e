using Gateway.Downstream;

namespace Gateway.Aggregation;

/// <summary>The result of one source: its JSON on success, else the error kind and a message for the client.</summary>
internal sealed class SourceResult
{
    private SourceResult(SourceOutcome outcome, int? status, long elapsedMs, string? message, PooledBody? body, SourceOutcome cause)
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

    /// <summary>The validated JSON, on success.</summary>
    public PooledBody? Body { get; }

    /// <summary>The failure behind this one: itself, or for a skipped source the failure of the input that caused it.</summary>
    public SourceOutcome Cause { get; }

    public bool IsOk => Outcome == SourceOutcome.Ok;

    public static SourceResult Ok(int status, long elapsedMs, PooledBody body) =>
        new(SourceOutcome.Ok, status, elapsedMs, null, body, SourceOutcome.Ok);

    public static SourceResult Failed(SourceOutcome outcome, long elapsedMs, string message, int? status = null) =>
        new(outcome, status, elapsedMs, message, null, outcome);

    public static SourceResult Skipped(string message, SourceOutcome cause) =>
        new(SourceOutcome.Skipped, null, 0, message, null, cause);
}
