namespace Gateway.Model;

/// <summary>
/// A source's validated JSON, as the envelope copies it. Either owned by one request (<c>PooledBody</c>:
/// a pooled buffer given back once the answer is written) or stored for many (<see cref="StoredBody"/>).
/// </summary>
internal abstract class SourceBody
{
    public abstract ReadOnlySpan<byte> Span { get; }

    /// <summary>The request is done with the body: a pooled buffer goes back to its pool, a stored one is let go by one reader.</summary>
    public abstract void Release();
}

/// <summary>
/// A body stored for every request that reads it (a cached answer or a dataset's copy). A reader takes it with
/// <see cref="TryRetain"/> before it reads and gives it back with <see cref="SourceBody.Release"/> once it has written it.
/// </summary>
internal abstract class StoredBody : SourceBody
{
    public abstract int Length { get; }

    /// <summary>Takes a reader's hold; false when the body is already gone (its buffer given back to be reused): read it again from its cache.</summary>
    public abstract bool TryRetain();
}

/// <summary>An immutable body left to the garbage collector (a dataset's copy, an answer read back from Redis): every hold succeeds, none is counted.</summary>
internal sealed class SharedBody(byte[] utf8) : StoredBody
{
    public override ReadOnlySpan<byte> Span => utf8;

    public override int Length => utf8.Length;

    public override bool TryRetain() => true;

    public override void Release()
    {
        // Other requests may be reading it; the copy it belongs to is replaced, never returned.
    }
}
