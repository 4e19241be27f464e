using System.Net;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Limits;

/// <summary>Kestrel's request limits on the real gateway: the documented defaults, and <c>Kestrel:Limits</c> honoured.</summary>
public sealed class KestrelLimitsTests
{
    private static async Task<TestDownstream> StartDownstreamAsync() =>
        await TestDownstream.StartAsync((app, _) =>
        {
            app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"ok":true}"""));
            app.MapPost("/upload", async (HttpContext c) =>
            {
                await c.Request.Body.CopyToAsync(Stream.Null);
                await TestDownstream.WriteJsonAsync(c, """{"stored":true}""");
            });
        });

    private static GatewayConfig Config(TestDownstream downstream) => new GatewayConfig()
        .Cluster("users", downstream.BaseAddress)
        .Aggregate("profile", "/profile/{id}", a => a.Source("user", "users", "/users/{id}", required: true))
        .PrefixRoute("users", "users", "/proxy");

    private static async Task<HttpStatusCode> GetWithHeadersAsync(TestGateway gateway, int count, int valueLength)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/profile/1", UriKind.Relative));
        for (var i = 0; i < count; i++)
        {
            request.Headers.TryAddWithoutValidation($"X-Filler-{i}", new string('v', valueLength));
        }

        return (await gateway.SendAsync(request)).StatusCode;
    }

    // Over the limit, Kestrel answers 413 as soon as the route starts reading and closes the connection while a
    // client may still be sending: a raw request declaring the length and sending no body reads the answer.
    private static async Task<int> PostDeclaringAsync(TestGateway gateway, long bytes)
    {
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(gateway.BaseAddress.Host, gateway.BaseAddress.Port);
        var stream = client.GetStream();
        var head = $"POST /proxy/upload HTTP/1.1\r\nHost: gateway.test\r\nContent-Length: {bytes}\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head));
        using var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync().WaitAsync(Signal.Patience);
        return int.Parse(statusLine!.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<HttpStatusCode> PostAsync(TestGateway gateway, long bytes)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/proxy/upload", UriKind.Relative))
        {
            Content = new StreamContent(new GeneratedStream(bytes)),
        };
        request.Content.Headers.ContentLength = bytes;
        return (await gateway.SendAsync(request)).StatusCode;
    }

    [Fact]
    public async Task Request_HeaderCountAndSizeAroundTheDefaults_431OnlyPastThem()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream));

        Assert.Equal(HttpStatusCode.OK, await GetWithHeadersAsync(gateway, 90, 10));
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, await GetWithHeadersAsync(gateway, 101, 10));
        Assert.Equal(HttpStatusCode.OK, await GetWithHeadersAsync(gateway, 1, 30 * 1024));
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, await GetWithHeadersAsync(gateway, 1, 33 * 1024));
    }

    [Fact]
    public async Task Route_BodyOverTheDefaultMaxSize_413AndNothingSent()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream));

        Assert.Equal(413, await PostDeclaringAsync(gateway, 30_000_001));
        Assert.Empty(downstream.RequestsTo("/upload"));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(gateway, 1_000_000));
    }

    [Fact]
    public async Task KestrelLimitsSection_Configured_TakesThePlaceOfTheDefaults()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await StartDownstreamAsync();
        var config = Config(downstream);
        config.Root["Kestrel"] = new JsonObject { ["Limits"] = new JsonObject { ["MaxRequestHeaderCount"] = 10, ["MaxRequestBodySize"] = 1000 } };
        await using var gateway = await TestGateway.StartAsync(config);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, await GetWithHeadersAsync(gateway, 15, 10));
        Assert.Equal(413, await PostDeclaringAsync(gateway, 2000));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(gateway, 500));
    }

    /// <summary>A read-only stream of <c>length</c> bytes made up as they are read: no 30 MB array in the test.</summary>
    private sealed class GeneratedStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            buffer.AsSpan(offset, n).Fill((byte)'x');
            _position += n;
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
