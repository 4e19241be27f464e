using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>One line the gateway logged, as FakeLogger (Microsoft.Extensions.Diagnostics.Testing) recorded it, with its typed fields and scopes.</summary>
public sealed record LogEntry(LogLevel Level, string Category, string? EventName, string Message, Exception? Exception)
{
    /// <summary>The line's structured fields (the message template's placeholders, and <c>{OriginalFormat}</c>), as FakeLogger renders them: invariant text.</summary>
    public IReadOnlyDictionary<string, string?> Fields { get; init; } = new Dictionary<string, string?>();

    /// <summary>The structured values of every scope the line was written in (the outermost wins a duplicate key).</summary>
    public IReadOnlyDictionary<string, object?> Scopes { get; init; } = new Dictionary<string, object?>();

    public static LogEntry From(FakeLogRecord record)
    {
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in record.StructuredState ?? [])
        {
            fields[key] = value;
        }

        // FakeLogger keeps the scopes outermost first.
        var scopes = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var scope in record.Scopes)
        {
            if (scope is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    scopes.TryAdd(key, value);
                }
            }
        }

        return new LogEntry(record.Level, record.Category ?? "", record.Id.Name, record.Message, record.Exception) { Fields = fields, Scopes = scopes };
    }

    public override string ToString() => $"{Level} {Category} {EventName}: {Message} {Exception}";
}
