using System.Globalization;

namespace Gateway.Downstream;

/// <summary>Deadline propagation: the client's budget header in, the time left out.</summary>
internal static class RequestBudget
{
    /// <summary>
    /// The largest budget the gateway can time (a <see cref="CancellationTokenSource"/>'s range, about 49.7 days); a
    /// larger one is ignored, like a number too large to read.
    /// </summary>
    public static readonly TimeSpan MaxBudget = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>
    /// The request's deadline: <paramref name="timeout"/>, or the client's budget when that is lower. A
    /// malformed budget (not a plain non-negative integer of milliseconds) is ignored, and so is one above
    /// <see cref="MaxBudget"/>.
    /// </summary>
    public static TimeSpan Shorten(TimeSpan timeout, IHeaderDictionary headers, string header) =>
        TryRead(headers, header, out var budget) && budget < timeout ? budget : timeout;

    public static bool TryRead(IHeaderDictionary headers, string header, out TimeSpan budget)
    {
        budget = default;
        var values = headers[header];
        if (values.Count != 1 || !long.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds)
            || milliseconds > (long)MaxBudget.TotalMilliseconds)
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
