using System.Text.Json;

namespace Gateway.Model;

/// <summary>What became of one source; every value but <see cref="Ok"/> is an error <c>kind</c>.</summary>
internal enum SourceOutcome
{
    Ok,
    Timeout,
    HttpStatus,
    Unavailable,
    Rejected,
    InvalidResponse,
    Skipped,
    CircuitOpen,
    Cancelled,
    StaleExpired,
}

internal static class SourceOutcomeNames
{
    private static readonly JsonEncodedText[] Names =
    [
        JsonEncodedText.Encode("ok"),
        JsonEncodedText.Encode("timeout"),
        JsonEncodedText.Encode("http_status"),
        JsonEncodedText.Encode("unavailable"),
        JsonEncodedText.Encode("rejected"),
        JsonEncodedText.Encode("invalid_response"),
        JsonEncodedText.Encode("skipped"),
        JsonEncodedText.Encode("circuit_open"),
        JsonEncodedText.Encode("cancelled"),
        JsonEncodedText.Encode("stale_expired"),
    ];

    private static readonly string[] Strings = [.. Names.Select(n => n.ToString())];

    public static JsonEncodedText ToJson(this SourceOutcome outcome) => Names[(int)outcome];

    public static string ToName(this SourceOutcome outcome) => Strings[(int)outcome];

    /// <summary>The gateway did not let the call through (or stopped it): no downstream said anything.</summary>
    public static bool IsRefusal(this SourceOutcome outcome) => outcome is SourceOutcome.Rejected or SourceOutcome.CircuitOpen or SourceOutcome.Cancelled;
}
