using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Caching;

/// <summary>The response cache's key of one downstream call, and the headers that call may carry.</summary>
internal static class ResponseCacheKey
{
    /// <summary>
    /// Cluster, expanded path and query, then each <c>VaryBy</c> header (and <c>Authorization</c> when allowed) with
    /// its value, length-prefixed so that no value can pass for another (a value holding the separator and the next
    /// header's name included). The call carries only these headers (<paramref name="sent"/>): an answer kept for
    /// everyone with the same key must not depend on anything outside it. The key is stored hashed (cluster id, then
    /// SHA-256): it holds tokens and header values that must not sit readable in memory dumps or in the shared
    /// Redis, and a long query would otherwise make a long Redis key.
    /// </summary>
    /// <param name="selected">The request's headers the gateway would propagate.</param>
    public static string Create(string cluster, string path, ResponseCachePolicy policy, KeyValuePair<string, StringValues>[] selected, StringValues authorization, out KeyValuePair<string, StringValues>[] sent)
    {
        var key = new StringBuilder(cluster.Length + path.Length + 16).Append(cluster).Append('\n').Append(path);
        List<KeyValuePair<string, StringValues>>? headers = null;
        foreach (var name in policy.VaryBy)
        {
            AppendHeader(key, name, Find(selected, name, ref headers));
        }

        if (policy.CacheAuthorized)
        {
            Find(selected, HeaderNames.Authorization, ref headers);
            AppendHeader(key, HeaderNames.Authorization, authorization.ToString());
        }

        sent = headers is null ? [] : [.. headers];
        return string.Concat(cluster, ":", Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString()))));
    }

    private static string Find(KeyValuePair<string, StringValues>[] selected, string name, ref List<KeyValuePair<string, StringValues>>? sent)
    {
        foreach (var header in selected)
        {
            if (header.Key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                (sent ??= []).Add(header);
                return header.Value.ToString();
            }
        }

        return "";
    }

    private static void AppendHeader(StringBuilder key, string name, string value) =>
        key.Append('\n').Append(name.ToLowerInvariant()).Append(':').Append(value.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value);
}
