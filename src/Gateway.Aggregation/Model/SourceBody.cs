namespace Gateway.Model;

/// <summary>
/// A source's validated JSON, as the envelope copies it. Either owned by one request (<c>PooledBody</c>:
/// a pooled buffer given back once the answer is written) or shared by many (<see cref="SharedBody"/>: a
/// cached copy that no request may give back, freed by the garbage collector once nobody reads it).
/// </summary>
internal abstract class SourceBody
{
    public abstract ReadOnlySpan<byte> Span { get; }

    /// <summary>The request is done with the body: a pooled buffer goes back to its pool, a shared one stays.</summary>
    public abstract void Release();
}

/// <summary>An immutable body shared by every request that reads it (a cached dataset's copy).</summary>
internal sealed class SharedBody(byte[] utf8) : SourceBody
{
    public override ReadOnlySpan<byte> Span => utf8;

    public int Length => utf8.Length;

    public override void Release()
    {
        // Other requests may be reading it; the copy it belongs to is replaced, never returned.
    }
}
