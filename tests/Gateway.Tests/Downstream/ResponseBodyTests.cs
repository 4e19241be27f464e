using System.Text;
using Gateway.Downstream;
using Gateway.Tests.Aggregation;

namespace Gateway.Tests.Downstream;

public sealed class ResponseBodyTests
{
    [Theory]
    [InlineData("{}")]
    [InlineData("[1,2,{\"a\":null}]")]
    [InlineData("  \"text\"  ")]
    [InlineData("42")]
    public void IsJson_OneValue_True(string json) => Assert.True(ResponseBody.IsJson(Encoding.UTF8.GetBytes(json)));

    [Theory]
    [InlineData("")]
    [InlineData("<html></html>")]
    [InlineData("{\"a\":1")]
    [InlineData("{} {}")]
    [InlineData("{\"a\":1,}")]
    [InlineData("// c\n{}")]
    public void IsJson_NotExactlyOneValue_False(string json) => Assert.False(ResponseBody.IsJson(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void IsJson_InvalidUtf8InString_False()
    {
        Assert.False(ResponseBody.IsJson([(byte)'"', 0xFF, 0xFE, (byte)'"']));
    }

    [Fact]
    public async Task ReadAsync_BodyAtCap_Reads()
    {
        var body = await ResponseBody.ReadAsync(new StreamContent(new MemoryStream(new byte[100])), 100, CancellationToken.None);
        Assert.Equal(100, body!.Span.Length);
        body.Release();
    }

    [Fact]
    public async Task ReadAsync_StreamedBodyOverCap_StopsReadingAtTheCap()
    {
        var stream = new CountingStream(10 * 1024 * 1024);
        var body = await ResponseBody.ReadAsync(new StreamContent(stream), 1024, CancellationToken.None);
        Assert.Null(body);
        // Bounded memory: it read at most one buffer past the cap, not the 10 MiB on offer.
        Assert.True(stream.BytesRead < 64 * 1024, $"read {stream.BytesRead} bytes");
    }

    [Fact]
    public async Task ReadAsync_DeclaredLengthOverCap_DoesNotRead()
    {
        var stream = new CountingStream(2048);
        var content = new StreamContent(stream);
        content.Headers.ContentLength = 2048;
        Assert.Null(await ResponseBody.ReadAsync(content, 1024, CancellationToken.None));
        Assert.Equal(0, stream.BytesRead);
    }

    [Fact]
    public async Task ReadAsync_ByteOrderMark_IsStripped()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat("{\"a\":1}"u8.ToArray()).ToArray();
        var body = await ResponseBody.ReadAsync(new ByteArrayContent(bytes), 1024, CancellationToken.None);
        Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(body!.Span));
    }

    [Fact]
    public async Task ReadAsync_LargeBodyWithoutLength_GrowsAndKeepsEveryByte()
    {
        var bytes = Enumerable.Range(0, 100_000).Select(i => (byte)(i % 251)).ToArray();
        var body = await ResponseBody.ReadAsync(new StreamContent(new MemoryStream(bytes)), 1 << 20, CancellationToken.None);
        Assert.True(body!.Span.SequenceEqual(bytes));
        body.Release();
    }

    [Fact]
    public async Task ReadAsync_CapPlusOneBytesThenSilence_FailsWithoutWaitingForMore()
    {
        // Like a socket: the body stops one byte past the cap and the connection stays open.
        var content = new StreamContent(new StallingStream(new byte[1025]));
        var body = await ResponseBody.ReadAsync(content, 1024, CancellationToken.None).AsTask().Within();
        Assert.Null(body);
    }

    [Fact]
    public async Task ReadAsync_LargeDeclaredLengthThenStall_BufferGrowsOnlyWithTheBytes()
    {
        // A downstream may declare 8 MiB (under the cap), send two bytes and stall: what it declared must
        // not be what it pins. The largest read the stream is offered is the size of the buffer behind it.
        var stream = new StallingStream("{}"u8.ToArray());
        var content = new StreamContent(stream);
        content.Headers.ContentLength = 8 * 1024 * 1024;
        using var stop = new CancellationTokenSource();
        var reading = ResponseBody.ReadAsync(content, 16 * 1024 * 1024, stop.Token).AsTask();

        await stream.Stalled.Within();
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
        Assert.True(stream.LargestRead <= 64 * 1024, $"offered a {stream.LargestRead}-byte buffer for 2 bytes");
    }

    [Fact]
    public async Task ReadAsync_DeclaredLengthAboveTheFirstBuffer_KeepsEveryByte()
    {
        var bytes = Enumerable.Range(0, 300_000).Select(i => (byte)(i % 251)).ToArray();
        var content = new StreamContent(new MemoryStream(bytes));
        content.Headers.ContentLength = bytes.Length;
        var body = await ResponseBody.ReadAsync(content, bytes.Length, CancellationToken.None);
        Assert.True(body!.Span.SequenceEqual(bytes));
        body.Release();
    }

    private sealed class StallingStream(byte[] data) : Stream
    {
        private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _position;

        /// <summary>Completes when every byte was delivered and a read is waiting for more.</summary>
        public Task Stalled => _stalled.Task;

        public int LargestRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            LargestRead = Math.Max(LargestRead, buffer.Length);
            if (buffer.Length == 0 || _position == data.Length)
            {
                _stalled.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            var n = Math.Min(buffer.Length, data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer.Span);
            _position += n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class CountingStream(long length) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - BytesRead);
            buffer.AsSpan(offset, n).Fill((byte)'a');
            BytesRead += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
