namespace Gateway.Downstream;

/// <summary>The one connection pool every downstream call goes through.</summary>
internal sealed class DownstreamTransport : IDisposable
{
    public DownstreamTransport()
        : this(CreateHandler())
    {
    }

    public DownstreamTransport(HttpMessageHandler handler)
    {
        Invoker = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    public HttpMessageInvoker Invoker { get; }

    public void Dispose() => Invoker.Dispose();

    private static SocketsHttpHandler CreateHandler() => new()
    {
        // A gateway forwards exactly what it was asked for: no proxy, no redirects, no cookies, no decompression.
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        // Rotate connections so DNS changes of a downstream are picked up.
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        EnableMultipleHttp2Connections = true,
    };
}
