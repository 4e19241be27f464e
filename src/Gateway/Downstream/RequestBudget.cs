using System.Globalization;

namespace Gateway.Downstream;

/// <summary>Deadline propagation: the client's budget header in, the time left out.</summary>
internal static class RequestBudget
{
    /// <summary>
    /// The request's deadline: <paramref name="timeout"/>, or the client's budget when that is lower. A
    /// malformed budget (not a plain non-negative integer of milliseconds) is ignored.
    /// </summary>
    public static TimeSpan Shorten(TimeSpan timeout, IHeaderDictionary headers, string header) =>
        TryRead(headers, header, out var budget) && budget < timeout ? budget : timeout;

    public static bool TryRead(IHeaderDictionary headers, string header, out TimeSpan budget)
    {
        budget = default;
        var values = headers[header];
        if (values.Count != 1 || !long.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds)
            || milliseconds > (long)TimeSpan.MaxValue.TotalMilliseconds)
        {
            return false;
        }

        budget = TimeSpan.FromMilliseconds(milliseconds);
        return true;
    }

    /// <summary>A <c>Retry-After</c> value: whole seconds, rounded up, at least 1.</summary>
    public static string WholeSeconds(TimeSpan delay) =>
        Math.Max(1, (long)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
