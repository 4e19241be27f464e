using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Unicode;
using Gateway.Model;

namespace Gateway.Downstream;

/// <summary>Reads a downstream body into a pooled buffer under a size cap and checks that it is one JSON value.</summary>
internal static class ResponseBody
{
    private const int InitialBufferSize = 4096;

    // The most a declared Content-Length may reserve before the bytes arrive: a downstream can declare
    // 100 MB and stall, and a buffer sized from its word would stay pinned for as long as it stalls.
    private const int MaxInitialBufferSize = 16 * 1024;

    /// <summary>
    /// Reads the whole body. Returns null (and keeps no buffer) when it is longer than <paramref name="maxBytes"/>:
    /// reading stops at the cap, so memory stays bounded whatever the downstream sends. The buffer grows
    /// (doubling) as bytes arrive; a declared length only sizes the first one, up to 16 KiB.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<PooledBody?> ReadAsync(HttpContent content, long maxBytes, CancellationToken cancellationToken)
    {
        var declared = content.Headers.ContentLength;
        if (declared > maxBytes)
        {
            return null;
        }

        // One byte past the cap tells "exactly at the cap" from "over it".
        var limit = (int)Math.Min(maxBytes + 1, Array.MaxLength);
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(declared is { } d ? Math.Min(d + 1, MaxInitialBufferSize) : InitialBufferSize, limit));
        var length = 0;
        try
        {
            var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                // The pool may hand out more than `limit`: stop at the limit, never ask for 0 bytes
                // (a network stream can wait for data on a 0-byte read).
                while (length < limit)
                {
                    if (length == buffer.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    var read = await stream.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, limit) - length), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    length += read;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        if (length > maxBytes)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return null;
        }

        var start = buffer.AsSpan(0, length).StartsWith("\uFEFF"u8) ? 3 : 0;
        return new PooledBody(buffer, start, length - start);
    }

    /// <summary>True when <paramref name="utf8"/> is exactly one well-formed JSON value in valid UTF-8.</summary>
    public static bool IsJson(ReadOnlySpan<byte> utf8)
    {
        // An HTML error page or plain text is turned away without the cost of a JsonException.
        var trimmed = utf8.TrimStart(" \t\r\n"u8);
        if (trimmed.IsEmpty || "{[\"-0123456789tfn"u8.IndexOf(trimmed[0]) < 0 || !Utf8.IsValid(utf8))
        {
            return false;
        }

        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            while (reader.Read())
            {
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>
/// A body in a buffer rented from the shared pool, owned by the one request that read it, without a UTF-8
/// byte order mark (which must not land inside the envelope); <see cref="Release"/> gives the buffer back.
/// </summary>
internal sealed class PooledBody(byte[] buffer, int start, int length) : SourceBody
{
    private byte[]? _buffer = buffer;

    public override ReadOnlySpan<byte> Span => _buffer.AsSpan(start, length);

    public override void Release()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } b)
        {
            ArrayPool<byte>.Shared.Return(b);
        }
    }
}
