namespace Gateway.Downstream;

/// <summary>
/// What a downstream's answer says about being kept by a shared cache (RFC 9111), read for the response cache: it
/// keeps answers for every client with the same key, so an answer meant for one client or for no cache is not
/// stored. Field-qualified <c>private="…"</c> and <c>no-cache="…"</c> only withhold those header fields, which the
/// gateway never stores; they do not forbid storing the body.
/// </summary>
internal static class StoreDirectives
{
    /// <summary>Why <paramref name="response"/> must not be stored by a shared cache, or null when it may be.</summary>
    public static string? Forbidden(HttpResponseMessage response)
    {
        var headers = response.Headers;
        if (headers.NonValidated.Contains("Set-Cookie"))
        {
            return "Set-Cookie";
        }

        if (!headers.NonValidated.Contains("Cache-Control"))
        {
            return null;
        }

        // A Cache-Control that does not parse could say anything: not stored.
        if (headers.CacheControl is not { } cacheControl)
        {
            return "Cache-Control (unreadable)";
        }

        return cacheControl switch
        {
            { NoStore: true } => "Cache-Control: no-store",
            { Private: true, PrivateHeaders.Count: 0 } => "Cache-Control: private",
            { NoCache: true, NoCacheHeaders.Count: 0 } => "Cache-Control: no-cache",
            _ => null,
        };
    }
}
