namespace Gateway.Configuration;

/// <summary>Keeps credentials written into a destination address out of messages and logs.</summary>
internal static class AddressRedaction
{
    /// <summary><c>http://user:pass@host/</c> becomes <c>http://***@host/</c>; anything else is returned as is.</summary>
    public static string Redact(string? address)
    {
        if (string.IsNullOrEmpty(address))
        {
            return address ?? "";
        }

        var start = address.IndexOf("//", StringComparison.Ordinal);
        start = start < 0 ? 0 : start + 2;
        var end = address.IndexOfAny(['/', '?', '#'], start);
        var at = address.LastIndexOf('@', end < 0 ? address.Length - 1 : end - 1);
        return at < start ? address : string.Concat(address.AsSpan(0, start), "***", address.AsSpan(at));
    }
}
