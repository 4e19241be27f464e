using System.Security.Cryptography;

namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>
/// A read-only stream of <see cref="Length"/> pseudo-random bytes made as they are read (never held whole),
/// hashing what it hands out, so that a large body can be sent and checked without a large array.
/// <c>progress</c> is called with the bytes produced so far each time another <c>step</c> bytes have been read.
/// </summary>
public sealed class GeneratedBody : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly long _length;
    private readonly ulong _seed;
    private readonly long _step;
    private readonly Action<long>? _progress;
    private long _position;
    private long _nextStep;
    private string? _disposedSha256;

    public GeneratedBody(long length, ulong seed, long step = long.MaxValue, Action<long>? progress = null)
    {
        _length = length;
        _seed = seed;
        _step = step;
        _nextStep = step;
        _progress = progress;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    /// <summary>SHA-256 of the bytes produced so far (until disposed), as lowercase hex.</summary>
    public string Sha256 => _disposedSha256 ?? Convert.ToHexStringLower(_hash.GetCurrentHash());

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, _length - _position);
        var destination = buffer[..count];
        Fill(destination, _position, _seed);
        _hash.AppendData(destination);
        _position += count;
        if (_position >= _nextStep)
        {
            _nextStep += _step;
            _progress?.Invoke(_position);
        }

        return count;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && _disposedSha256 is null)
        {
            // HTTP content disposes its stream once sent; the hash stays readable.
            _disposedSha256 = Sha256;
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }

    // Byte p is byte p % 8 of a hash of (seed, p / 8): any range can be made without the ones before it.
    private static void Fill(Span<byte> destination, long position, ulong seed)
    {
        var i = 0;
        while (i < destination.Length)
        {
            var at = position + i;
            var word = Mix(seed + ((ulong)(at >> 3) * 0x9E3779B97F4A7C15UL));
            for (var b = (int)(at & 7); b < 8 && i < destination.Length; b++, i++)
            {
                destination[i] = (byte)(word >> (8 * b));
            }
        }
    }

    // SplitMix64's output function over a Weyl sequence.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
