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
    private static readonly HashSet<string> TraceContext = new(StringComparer.OrdinalIgnoreCase)
    {
        "traceparent", "tracestate", "baggage", "Request-Id", "Correlation-Context",
    };

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

        if (problem is not null)
        {
            errors.Add($"{key}: '{header}' cannot be propagated ({problem})");
        }

        return problem is null;
    }

    /// <summary>
    /// The configured headers present on the request, minus any the client's Connection header
    /// declares hop-by-hop for this connection. Empty when nothing is to be sent.
    /// </summary>
    public static KeyValuePair<string, StringValues>[] Select(IHeaderDictionary inbound, string[] configured)
    {
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
                (selected ??= []).Add(new(name, values));
            }
        }

        return selected is null ? [] : [.. selected];
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
