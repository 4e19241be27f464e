using System.Buffers;
using Microsoft.Extensions.Primitives;

namespace Gateway.Logging;

/// <summary>
/// What makes an <c>X-Request-Id</c> usable as it came: one value, 1 to <see cref="MaxLength"/> characters,
/// each an ASCII letter, digit or one of <c>- _ . : + / =</c> (UUIDs, ULIDs, hex and base64 ids, W3C trace ids
/// all fit). Anything else (several values, spaces, quotes, commas, control or non-ASCII characters, a long
/// value) is replaced by a generated id: it would end up verbatim in log lines, downstream headers and the answer.
/// </summary>
internal static class RequestId
{
    public const string Header = "X-Request-Id";

    /// <summary>The name of the log scope property holding the request id.</summary>
    public const string ScopeKey = "XRequestId";

    public const int MaxLength = 128;

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:+/=");

    /// <summary>Why <paramref name="values"/> cannot be used as they came, or null when they can.</summary>
    public static string? Problem(StringValues values) => values.Count switch
    {
        0 => "absent",
        > 1 => "several values",
        _ => values[0] switch
        {
            null or "" => "empty",
            { Length: > MaxLength } => $"longer than {MaxLength} characters",
            var value when value.AsSpan().ContainsAnyExcept(Allowed) => "a character outside letters, digits and - _ . : + / =",
            _ => null,
        },
    };

    /// <summary>A new id: a version 7 UUID (time-ordered, 74 random bits) in 32 hex digits.</summary>
    public static string Generate(TimeProvider timeProvider) => Guid.CreateVersion7(timeProvider.GetUtcNow()).ToString("N");
}
