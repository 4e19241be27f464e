using System.Buffers;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Downstream;

/// <summary>Which inbound headers go downstream: only those configured, never hop-by-hop ones.</summary>
internal static class HeaderPropagation
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        HeaderNames.Connection, HeaderNames.KeepAlive, HeaderNames.ProxyAuthenticate, HeaderNames.ProxyAuthorization,
        "Proxy-Connection", HeaderNames.TE, HeaderNames.Trailer, HeaderNames.TransferEncoding, HeaderNames.Upgrade,
        // Not hop-by-hop, but describe this connection or this body, not the downstream call.
        HeaderNames.Host, HeaderNames.ContentLength,
    };

    // The gateway writes the trace context of its own span; the client's goes no further (see TracePropagation).
    private static readonly HashSet<string> TraceContext = new(TracePropagation.Headers, StringComparer.OrdinalIgnoreCase);

    // Control characters other than tab (RFC 9110 5.5): Kestrel lets most of them through and downstream
    // servers differ in what they make of them.
    private static readonly SearchValues<char> ControlCharacters = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Where(c => c != '\t').Select(c => (char)c), '\u007F']);

    public static bool IsHopByHop(string name) => HopByHop.Contains(name);

    /// <summary>Checks one configured header name; false (with an error naming <paramref name="key"/>) when it cannot be propagated.</summary>
    public static bool CheckConfigured(string? header, string key, List<string> errors)
    {
        string? problem = null;
        if (string.IsNullOrWhiteSpace(header) || IsHopByHop(header))
        {
            problem = "empty, hop-by-hop or connection-specific";
        }
        else if (header.Equals("Accept", StringComparison.OrdinalIgnoreCase) || header.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
        {
            problem = "the gateway always asks for JSON and sends no body";
        }
        else if (TraceContext.Contains(header))
        {
            problem = "the gateway sends its own trace context; allow baggage keys with Gateway:PropagateBaggage";
        }
        else if (header.Equals(Logging.RequestId.Header, StringComparison.OrdinalIgnoreCase))
        {
            problem = "the gateway always sends the request id it settled";
        }

        if (problem is not null)
        {
            errors.Add($"{key}: '{header}' cannot be propagated ({problem})");
        }

        return problem is null;
    }

    /// <summary>
    /// The configured headers present on the request, minus any the client's Connection header
    /// declares hop-by-hop for this connection. Empty when nothing is to be sent. When a value of one of
    /// them holds a control character (tab excepted), returns empty and names that header in
    /// <paramref name="invalidHeader"/>: the request must not go downstream.
    /// </summary>
    public static KeyValuePair<string, StringValues>[] Select(IHeaderDictionary inbound, string[] configured, out string? invalidHeader)
    {
        invalidHeader = null;
        if (configured.Length == 0)
        {
            return [];
        }

        List<KeyValuePair<string, StringValues>>? selected = null;
        var connection = inbound.Connection;
        foreach (var name in configured)
        {
            if (inbound.TryGetValue(name, out var values) && !StringValues.IsNullOrEmpty(values) && !IsNamedIn(connection, name))
            {
                if (HasControlCharacter(values))
                {
                    invalidHeader = name;
                    return [];
                }

                (selected ??= []).Add(new(name, values));
            }
        }

        return selected is null ? [] : [.. selected];
    }

    private static bool HasControlCharacter(StringValues values)
    {
        foreach (var value in values)
        {
            if (value is not null && value.AsSpan().IndexOfAny(ControlCharacters) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsNamedIn(StringValues connection, string name)
    {
        foreach (var value in connection)
        {
            foreach (var token in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (token.Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
