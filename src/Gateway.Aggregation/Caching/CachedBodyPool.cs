using System.Diagnostics;
using System.Numerics;
using Gateway.Model;

namespace Gateway.Caching;

/// <summary>
/// The buffers of the response cache's bodies, reused: a body's buffer comes back here when the cache has evicted it
/// and no request still reads it, and the next stored answer takes it. Without this, every eviction under a stream of
/// distinct keys leaves a body that has already been promoted to the GC's oldest generation, collected only at the
/// next full collection, and the process holds about twice <c>Gateway:Cache:MaxBytes</c>.
/// </summary>
/// <remarks>
/// Written here rather than taken from <see cref="System.Buffers.ArrayPool{T}"/>: the shared pool keeps a few dozen
/// arrays per size and drops the rest to the GC, which is the garbage this avoids, and its power-of-two sizes would
/// charge up to twice a body's length to <c>MaxBytes</c>. Sizes here are rounded up to a quarter of a power of two
/// (at most 25 % more than the body), and the free buffers are bounded by <c>maxFreeBytes</c>: past it a returned
/// buffer goes to the GC.
/// </remarks>
internal sealed class CachedBodyPool(long maxFreeBytes)
{
    private const int MinimumSize = 256;

    private readonly Dictionary<int, Stack<byte[]>> _free = [];
    private readonly Lock _lock = new();
    private long _freeBytes;
    private long _allocated;

    /// <summary>Bytes in buffers waiting to be reused.</summary>
    public long FreeBytes
    {
        get
        {
            lock (_lock)
            {
                return _freeBytes;
            }
        }
    }

    /// <summary>Buffers allocated since start (not taken from the free ones).</summary>
    public long Allocated => Interlocked.Read(ref _allocated);

    /// <summary>The length of the buffer a body of <paramref name="length"/> bytes is stored in: what it is charged.</summary>
    public static int BufferSize(int length)
    {
        if (length <= MinimumSize)
        {
            return MinimumSize;
        }

        // A quarter of the power of two just below: 16,384 stays 16,384, 16,385 takes 20,480.
        var step = 1 << (BitOperations.Log2((uint)(length - 1)) - 2);
        return (int)Math.Min(Array.MaxLength, ((long)length + step - 1) & ~(long)(step - 1));
    }

    /// <summary>A copy of <paramref name="utf8"/> in a buffer of this pool, held once (by its creator, until the cache takes it).</summary>
    public CountedBody Store(ReadOnlySpan<byte> utf8)
    {
        var buffer = Rent(BufferSize(utf8.Length));
        utf8.CopyTo(buffer);
        return new CountedBody(this, buffer, utf8.Length);
    }

    private byte[] Rent(int size)
    {
        lock (_lock)
        {
            if (_free.TryGetValue(size, out var stack) && stack.TryPop(out var buffer))
            {
                _freeBytes -= size;
                return buffer;
            }
        }

        Interlocked.Increment(ref _allocated);
        return GC.AllocateUninitializedArray<byte>(size);
    }

    internal void Return(byte[] buffer)
    {
        lock (_lock)
        {
            if (_freeBytes + buffer.Length > maxFreeBytes)
            {
                return;
            }

            if (!_free.TryGetValue(buffer.Length, out var stack))
            {
                _free[buffer.Length] = stack = new Stack<byte[]>();
            }

            stack.Push(buffer);
            _freeBytes += buffer.Length;
        }
    }
}

/// <summary>
/// A cached answer's body in a buffer of a <see cref="CachedBodyPool"/>, counted: one hold for the cache's entry
/// and one per request reading it. The buffer goes back to the pool when the last hold is let go, and a body that
/// reached zero never comes back: a request that finds it so reads the cache again.
/// </summary>
internal sealed class CountedBody : StoredBody
{
    private readonly CachedBodyPool _pool;
    private readonly byte[] _buffer;
    private readonly int _length;
    private int _holds = 1;
    private int _creatorHoldTaken;

    internal CountedBody(CachedBodyPool pool, byte[] buffer, int length)
    {
        _pool = pool;
        _buffer = buffer;
        _length = length;
    }

    public override ReadOnlySpan<byte> Span => _buffer.AsSpan(0, _length);

    public override int Length => _length;

    /// <summary>Whether no hold is left (its buffer may be another body's now).</summary>
    public bool IsGone => Volatile.Read(ref _holds) == 0;

    public override bool TryRetain()
    {
        var holds = Volatile.Read(ref _holds);
        while (holds > 0)
        {
            var seen = Interlocked.CompareExchange(ref _holds, holds + 1, holds);
            if (seen == holds)
            {
                return true;
            }

            holds = seen;
        }

        return false;
    }

    /// <summary>
    /// The hold of a cache entry: the first entry takes over the creator's hold, later ones (the same answer stored
    /// again, as a fail-safe entry) take one more. A body never stored keeps its creator's hold and is left to the GC.
    /// </summary>
    public bool TryRetainForEntry() => Interlocked.Exchange(ref _creatorHoldTaken, 1) == 0 || TryRetain();

    public override void Release()
    {
        // Only the last hold gives the buffer back, so a buffer is never in the pool twice; a release past zero (a bug)
        // is caught in Debug builds.
        var holds = Interlocked.Decrement(ref _holds);
        if (holds == 0)
        {
            _pool.Return(_buffer);
        }

        Debug.Assert(holds >= 0, "a cached body was released more often than it was held");
    }
}
