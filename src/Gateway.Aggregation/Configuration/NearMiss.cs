namespace Gateway.Configuration;

/// <summary>"Did you mean": the known name closest to a key that is not known, when it is a near miss (a typo).</summary>
internal static class NearMiss
{
    /// <summary>The candidate within <paramref name="maxDistance"/> edits of <paramref name="key"/> (case-insensitive), the closest first; null when none is.</summary>
    public static string? Closest(string key, IEnumerable<string> candidates, int maxDistance = 2) =>
        candidates.Select(c => (Name: c, Distance: Distance(c, key))).Where(c => c.Distance <= maxDistance).OrderBy(c => c.Distance).Select(c => c.Name).FirstOrDefault();

    /// <summary><c>; did you mean 'X'?</c>, or nothing.</summary>
    public static string Suggestion(string key, IEnumerable<string> candidates) =>
        Closest(key, candidates) is { } meant ? $"; did you mean '{meant}'?" : "";

    // Levenshtein distance, case-insensitive; the names are short.
    private static int Distance(string a, string b)
    {
        a = a.ToUpperInvariant();
        b = b.ToUpperInvariant();
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
