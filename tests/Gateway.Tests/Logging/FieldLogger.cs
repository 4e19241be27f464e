using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Logging;

/// <summary>Keeps every line logged to it with its structured fields, for tests that look at levels and fields.</summary>
internal sealed class FieldLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<FieldLine> _lines = new();

    public LogLevel MinLevel { get; init; } = LogLevel.Trace;

    public IReadOnlyList<FieldLine> Lines => [.. _lines];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= MinLevel;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var fields = state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal)
            : [];
        _lines.Enqueue(new FieldLine(logLevel, eventId, formatter(state, exception), fields));
    }
}

internal sealed record FieldLine(LogLevel Level, EventId EventId, string Message, Dictionary<string, object?> Fields);
