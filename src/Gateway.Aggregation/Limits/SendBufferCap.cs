using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway.Limits;

/// <summary>
/// <c>Gateway:RateLimiting:SocketSendBufferBytes</c> on every client connection, as it is accepted. Kestrel's
/// <c>MinResponseDataRate</c> counts what the kernel took as sent; left to Linux's autotuning the send buffer grows
/// to 4 MiB (<c>net.ipv4.tcp_wmem</c>), which a client that stops reading is granted as read: at 64 KiB/s a minute
/// before its cut. Capped, a slow reader is cut within the grace period plus (this buffer, twice over on Linux, the
/// client's receive window and Kestrel's 64 KiB) at the minimum rate, and gives its slot back.
/// </summary>
internal static class SendBufferCap
{
    /// <summary>Adds the cap to Kestrel's endpoint defaults (every endpoint: <c>--urls</c>, <c>Kestrel:Endpoints</c>).</summary>
    public static void Apply(KestrelServerOptions kestrel, int bytes)
    {
        if (bytes <= 0)
        {
            return;
        }

        // Kestrel keeps one endpoint-defaults action: a host embedding the gateway that sets its own replaces this
        // one (or is replaced by it, whichever runs last) and should call Use with the same middleware itself.
        kestrel.ConfigureEndpointDefaults(listen => listen.Use(next => connection =>
        {
            // Once per connection, not per request; a transport without a socket (tests' in-memory one) is left alone.
            if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is { ProtocolType: ProtocolType.Tcp } socket)
            {
                socket.SendBufferSize = bytes;
            }

            return next(connection);
        }));
    }
}
