using Gateway.Model;

namespace Gateway.Caching;

/// <summary>
/// What a cached call's factory hands FusionCache: a stored answer (status, immutable shared body, when it
/// was loaded on the wall clock), or an answer that passes through unstored (a 404: not a failure, not cached; or
/// one the downstream said no shared cache may keep).
/// </summary>
internal sealed class CachedResponse
{
    private CachedResponse(int status, StoredBody? body, DateTimeOffset loadedAt, SourceResult? passed)
    {
        Status = status;
        Body = body;
        LoadedAt = loadedAt;
        Passed = passed;
    }

    public int Status { get; }

    public StoredBody? Body { get; }

    /// <summary>Wall-clock time the answer arrived (FusionCache's windows are on the wall clock too).</summary>
    public DateTimeOffset LoadedAt { get; }

    /// <summary>An answer given to the caller but never stored.</summary>
    public SourceResult? Passed { get; }

    /// <summary>Memory charged for an entry besides its body: an estimate, rounded up, of FusionCache's entry and metadata, this object, the key and the LRU node.</summary>
    public const int EntryOverhead = 512;

    /// <summary>What the memory level charges an entry whose body has <paramref name="bodyLength"/> bytes: its pooled buffer and the overhead.</summary>
    public static long Charge(int bodyLength) => (long)CachedBodyPool.BufferSize(bodyLength) + EntryOverhead;

    public static CachedResponse Stored(int status, StoredBody body, DateTimeOffset loadedAt) => new(status, body, loadedAt, null);

    public static CachedResponse PassThrough(SourceResult result) => new(0, null, default, result);
}
