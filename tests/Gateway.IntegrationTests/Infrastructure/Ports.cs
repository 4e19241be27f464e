using System.Net;
using System.Net.Sockets;

namespace Gateway.IntegrationTests.Infrastructure;

public static class Ports
{
    /// <summary>A 127.0.0.1 port that was just free and that nothing listens on: connecting to it is refused.</summary>
    public static int Closed()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
