using System.Globalization;

namespace Gateway.OpenApi;

/// <summary>Figures as people read them in a description.</summary>
internal static class OpenApiText
{
    /// <summary><c>300 ms</c>, <c>2 s</c>, <c>1.5 s</c>, <c>2 min</c>.</summary>
    public static string Duration(TimeSpan value)
    {
        if (value < TimeSpan.FromSeconds(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds:0.###} ms");
        }

        return value < TimeSpan.FromMinutes(2) || value.Seconds != 0
            ? string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.###} s")
            : string.Create(CultureInfo.InvariantCulture, $"{value.TotalMinutes:0.###} min");
    }

    /// <summary>An identifier OpenAPI accepts as a component name (<c>^[a-zA-Z0-9.\-_]+$</c>).</summary>
    public static string ComponentName(string text) =>
        string.Concat(text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_'));
}
