using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Limits;

/// <summary>
/// A client that reads a large answer slower than <c>Kestrel:Limits:MinResponseDataRate</c> is cut within the
/// documented bound and gives its <c>MaxConcurrentRequests</c> slot back; what bounds it is the send buffer cap
/// (<c>Gateway:RateLimiting:SocketSendBufferBytes</c>), without which the kernel's autotuned buffer is counted as read.
/// </summary>
public sealed class SlowReaderTests
{
    private const long BodyBytes = 20_000_000;
    private const int RateBytesPerSecond = 64 * 1024;
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);
    private const int ClientReceiveBuffer = 16 * 1024;
    private const int DefaultSendBuffer = 64 * 1024;   // Gateway:RateLimiting:SocketSendBufferBytes unless set

    // The README's bound: the grace period, then the bytes the buffers between the route and the client take as
    // read at the minimum rate: the send buffer (twice the key on Linux), the client's receive window (twice its
    // SO_RCVBUF) and about 384 KiB of Kestrel's and YARP's own pipes and copy buffer.
    private static readonly TimeSpan Bound = Grace + TimeSpan.FromSeconds(
        (2.0 * DefaultSendBuffer + 2.0 * ClientReceiveBuffer + 384 * 1024) / RateBytesPerSecond);

    [Fact]
    public async Task Route_ClientReadsFarSlowerThanTheMinimumRate_IsCutWithinTheBoundAndItsSlotIsFreed()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await TestDownstream.StartAsync((app, _) =>
        {
            app.MapGet("/download", async (HttpContext c) =>
            {
                using var body = new GeneratedBody(BodyBytes, seed: 3);
                c.Response.ContentType = "application/octet-stream";
                c.Response.ContentLength = BodyBytes;
                await body.CopyToAsync(c.Response.Body, 64 * 1024, c.RequestAborted);
            });
            app.MapGet("/small", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"ok":true}"""));
        });
        var config = new GatewayConfig().Cluster("files", downstream.BaseAddress).PrefixRoute("files", "files", "/files");
        config.Gateway["RateLimiting"] = new JsonObject { ["MaxConcurrentRequests"] = 1 };
        // A faster minimum than the default, so that the test is short; the send buffer keeps its default.
        config.Root["Kestrel"] = new JsonObject
        {
            ["Limits"] = new JsonObject
            {
                ["MinResponseDataRate"] = new JsonObject { ["BytesPerSecond"] = RateBytesPerSecond, ["GracePeriod"] = GatewayConfig.Format(Grace) },
            },
        };
        await using var gateway = await TestGateway.StartAsync(config);

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = ClientReceiveBuffer };
        await socket.ConnectAsync(gateway.BaseAddress.Host, gateway.BaseAddress.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes("GET /files/download HTTP/1.1\r\nHost: gateway.test\r\n\r\n"));
        var buffer = new byte[1024];
        var first = await socket.ReceiveAsync(buffer);
        Assert.StartsWith("HTTP/1.1 200", Encoding.ASCII.GetString(buffer, 0, first), StringComparison.Ordinal);
        var clock = Stopwatch.StartNew();

        // While it reads, the slot is taken.
        var whileHeld = await gateway.GetAsync("/files/small");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, whileHeld.StatusCode);

        // 4 KiB/s, a sixteenth of the minimum, until the gateway closes the connection (or three times the bound).
        long received = first;
        var cut = false;
        try
        {
            while (clock.Elapsed < 3 * Bound)
            {
                var read = await socket.ReceiveAsync(buffer);
                if (read == 0)
                {
                    cut = true;
                    break;
                }

                received += read;
                await Task.Delay(250);
            }
        }
        catch (SocketException)
        {
            cut = true;
        }

        var elapsed = clock.Elapsed;
        Assert.True(cut, $"still reading after {elapsed} ({received} bytes), the bound is {Bound}");
        Assert.True(received < BodyBytes / 10, $"{received} bytes read");
        // Generous for a busy machine; uncapped, Linux's send buffer grows to about 4 MiB, a minute at this rate.
        Assert.True(elapsed < 1.5 * Bound + TimeSpan.FromSeconds(5), $"cut after {elapsed}, the bound is {Bound}");

        // The cut request gives its slot back (as it ends, a moment after the connection closes).
        await Poll.UntilAsync(() => gateway.GetAsync("/files/small"), a => a.StatusCode == HttpStatusCode.OK, "the slot freed");
    }
}
