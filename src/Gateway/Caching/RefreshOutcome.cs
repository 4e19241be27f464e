namespace Gateway.Caching;

/// <summary>What became of one refresh; the failures use the error kinds of aggregate sources.</summary>
internal enum RefreshOutcome
{
    Ok,
    Timeout,
    HttpStatus,
    Unavailable,
    Rejected,
    InvalidResponse,
    CircuitOpen,
    Cancelled,
}

internal static class RefreshOutcomeNames
{
    private static readonly string[] Names = ["ok", "timeout", "http_status", "unavailable", "rejected", "invalid_response", "circuit_open", "cancelled"];

    public static string ToName(this RefreshOutcome outcome) => Names[(int)outcome];
}
