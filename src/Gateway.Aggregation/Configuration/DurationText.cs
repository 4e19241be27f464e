using System.Globalization;

namespace Gateway.Configuration;

/// <summary>
/// Reads a duration from configuration text: Go-style (<c>500ms</c>, <c>2s</c>, <c>1.5m</c>, <c>1h</c>,
/// combined as <c>1m30s</c>) or the .NET form (<c>00:00:02</c>, <c>00:00:00.300</c>, <c>1.00:00:00</c>).
/// A bare number is refused: <see cref="TimeSpan.Parse(string)"/> reads <c>"2"</c> as two days.
/// </summary>
internal static class DurationText
{
    /// <summary>The accepted forms, for messages.</summary>
    public const string Examples = "\"2s\", \"500ms\" or \"00:00:02\"";

    /// <summary>Parses a zero or positive duration; false for a bare number, a negative or anything else.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.AsSpan().Trim();
        var parsed = trimmed.Contains(':')
            ? TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out value)
            : TryParseUnits(trimmed, out value);
        return parsed && value >= TimeSpan.Zero;
    }

    /// <summary>Why <paramref name="text"/> is not a duration, starting with the quoted text.</summary>
    public static string Explain(string? text)
    {
        if (IsBareNumber(text))
        {
            return $"'{text}' is a bare number; write a duration such as {Examples}";
        }

        if (text is not null && text.AsSpan().TrimStart().StartsWith("-") && TryParse(text.AsSpan().TrimStart()[1..].ToString(), out _))
        {
            return $"'{text}' is negative; write a duration of zero or more such as {Examples}";
        }

        return $"'{text}' is not a duration; write one such as {Examples}";
    }

    /// <summary>Whether the text is only a number, which <see cref="TimeSpan.Parse(string)"/> would read as days.</summary>
    public static bool IsBareNumber(string? text) =>
        text is not null && decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    // One or more <number><unit>, the number with an optional fraction, the unit h, m, s or ms (Go's
    // time.ParseDuration without its sign and sub-millisecond units). Fractions below a tick are cut off.
    private static bool TryParseUnits(ReadOnlySpan<char> text, out TimeSpan value)
    {
        value = default;
        var ticks = 0m;
        while (!text.IsEmpty)
        {
            var numberLength = 0;
            while (numberLength < text.Length && (char.IsAsciiDigit(text[numberLength]) || text[numberLength] == '.'))
            {
                numberLength++;
            }

            var unitLength = numberLength;
            while (unitLength < text.Length && char.IsAsciiLetterLower(text[unitLength]))
            {
                unitLength++;
            }

            var number = text[..numberLength];
            long ticksPerUnit = text[numberLength..unitLength] switch
            {
                "h" => TimeSpan.TicksPerHour,
                "m" => TimeSpan.TicksPerMinute,
                "s" => TimeSpan.TicksPerSecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                _ => 0,
            };

            if (ticksPerUnit == 0 || number.IsEmpty || number[0] == '.' || number[^1] == '.'
                || !decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)
                || amount > (decimal)TimeSpan.MaxValue.Ticks / ticksPerUnit)
            {
                return false;
            }

            ticks += amount * ticksPerUnit;
            if (ticks > TimeSpan.MaxValue.Ticks)
            {
                return false;
            }

            text = text[unitLength..];
        }

        value = TimeSpan.FromTicks((long)decimal.Truncate(ticks));
        return true;
    }
}
