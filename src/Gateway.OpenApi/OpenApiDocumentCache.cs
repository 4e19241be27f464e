using System.Globalization;
using System.Text;
using Microsoft.Extensions.Primitives;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.Swagger;

namespace Gateway.OpenApi;

/// <summary>
/// The OpenAPI document as UTF-8 bytes, generated once and then served from memory. It changes only when the
/// endpoints do (a YARP configuration reload, an aggregate mapped late), which the endpoints' change token says;
/// generating it per request cost ~100 KB of garbage and milliseconds of CPU that any client could make the
/// gateway spend in a loop.
/// </summary>
internal sealed class OpenApiDocumentCache(ISwaggerProvider provider, EndpointDataSource endpoints)
{
    // The document embeds the request's path base (servers[].url). It is set by the host, not by clients
    // (X-Forwarded-Prefix is not read), so there are few; past this many the cache starts over.
    private const int MaxBasePaths = 8;

    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    private readonly Lock _gate = new();
    private Snapshot? _snapshot;

    /// <summary>The document for <paramref name="basePath"/> (null when the request has none).</summary>
    public byte[] Get(string? basePath)
    {
        var key = basePath ?? "";
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is not null && !snapshot.Changed.HasChanged && snapshot.Documents.TryGetValue(key, out var cached))
        {
            return cached;
        }

        // One generation at a time: a burst of first requests waits for one document instead of making one each.
        lock (_gate)
        {
            snapshot = _snapshot;
            if (snapshot is not null && !snapshot.Changed.HasChanged && snapshot.Documents.TryGetValue(key, out cached))
            {
                return cached;
            }

            if (snapshot is null || snapshot.Changed.HasChanged || snapshot.Documents.Count >= MaxBasePaths)
            {
                // Taken before generating: a change while the document is being made makes the next request redo it.
                snapshot = new Snapshot(endpoints.GetChangeToken(), new Dictionary<string, byte[]>(StringComparer.Ordinal));
            }

            var bytes = Generate(basePath);
            var documents = new Dictionary<string, byte[]>(snapshot.Documents, StringComparer.Ordinal) { [key] = bytes };
            Volatile.Write(ref _snapshot, snapshot with { Documents = documents });
            return bytes;
        }
    }

    private byte[] Generate(string? basePath)
    {
        var document = provider.GetSwagger(OpenApiExtensions.DocumentName, host: null, basePath: basePath);
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        document.SerializeAs(OpenApiSpecVersion.OpenApi3_0, new OpenApiJsonWriter(text));
        return Utf8.GetBytes(text.ToString());
    }

    private sealed record Snapshot(IChangeToken Changed, IReadOnlyDictionary<string, byte[]> Documents);
}
