namespace Gateway.Configuration;

/// <summary>Hides the credentials of an address (<c>http://user:pass@host/</c>) before it is printed.</summary>
internal static class AddressRedaction
{
    private const string Mask = "***";

    /// <summary>
    /// Replaces the user information of <paramref name="address"/> with <c>***</c>:
    /// <c>http://user:pass@host/</c> becomes <c>http://***@host/</c>. An address that is not a valid URI
    /// is cut more widely, up to its last <c>@</c>, because where its host begins is anyone's guess.
    /// </summary>
    public static string Redact(string? address)
    {
        if (string.IsNullOrEmpty(address))
        {
            return address ?? "";
        }

        var separator = address.IndexOf("://", StringComparison.Ordinal);
        var start = separator > 0 && IsScheme(address.AsSpan(0, separator)) ? separator + 3
            : address.StartsWith("//", StringComparison.Ordinal) ? 2
            : 0;

        int at;
        if (start > 0 && Uri.TryCreate(address, UriKind.Absolute, out _))
        {
            // A valid URI: the user information ends at the last '@' of the authority, which ends where
            // the parser ends it ('\' counts as '/' for http).
            var end = address.AsSpan(start).IndexOfAny("/?#\\");
            var authority = end < 0 ? address.AsSpan(start) : address.AsSpan(start, end);
            var offset = authority.LastIndexOf('@');
            at = offset < 0 ? -1 : start + offset;
        }
        else
        {
            at = address.LastIndexOf('@');
        }

        return at < start ? address : string.Concat(address.AsSpan(0, start), Mask, address.AsSpan(at));
    }

    private static bool IsScheme(ReadOnlySpan<char> text)
    {
        if (!char.IsAsciiLetter(text[0]))
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
