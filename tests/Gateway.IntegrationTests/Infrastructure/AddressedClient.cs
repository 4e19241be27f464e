using System.Net;
using System.Net.Sockets;

namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>
/// An HttpClient whose connections leave from a given loopback address (anything in 127.0.0.0/8 is this
/// machine on Linux), so that one test can be several clients as the gateway sees them.
/// </summary>
public static class AddressedClient
{
    public static HttpClient Create(Uri baseAddress, string localAddress)
    {
        var local = new IPEndPoint(IPAddress.Parse(localAddress), 0);
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(local);
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(20) };
    }

    /// <summary>GETs <paramref name="relativeUri"/>, with <paramref name="forwardedFor"/> as <c>X-Forwarded-For</c> when given, and reads the answer whole.</summary>
    public static async Task<AggregateAnswer> GetAsync(this HttpClient client, string relativeUri, string? forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(relativeUri, UriKind.Relative));
        if (forwardedFor is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        }

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return new AggregateAnswer(response, body, stopwatch.Elapsed);
    }
}
