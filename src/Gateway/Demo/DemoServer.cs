using System.Net;
using System.Net.Sockets;

namespace Gateway.Demo;

/// <summary>
/// The demo services again, on a loopback port of their own, for the gateway's own calls to them (the demo clusters
/// point here). On the gateway's port they would go with it: on SIGTERM Kestrel stops accepting at once, and an
/// aggregate in flight whose next call needs a new connection (a dependent source, a retry) would fail during the
/// drain. As a hosted service this server stops only after the gateway's server has drained.
/// </summary>
internal sealed class DemoServer : IHostedService, IAsyncDisposable
{
    private readonly ulong _listening;
    private TimeProvider _timeProvider = TimeProvider.System;
    private WebApplication? _app;

    /// <summary>
    /// Binds the demo's loopback port at once (so that <see cref="Address"/> is known before the app is built); the
    /// server on it starts with the host. Kestrel takes the socket over (<c>ListenHandle</c>): this object gives up
    /// its own hold on the handle, so that nothing closes it under Kestrel.
    /// </summary>
    public DemoServer()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen(512);
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)socket.LocalEndPoint!).Port}/");
        _listening = (ulong)socket.SafeHandle.DangerousGetHandle();
        socket.SafeHandle.SetHandleAsInvalid();
    }

    /// <summary>Where the demo services answer (<c>http://127.0.0.1:port/</c>).</summary>
    public Uri Address { get; }

    /// <summary>The host's clock for the demo's simulated latencies (the server is made before the host's services).</summary>
    public DemoServer WithTime(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        return this;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Nothing from the gateway's configuration, environment or logging: only Kestrel, routing and the endpoints.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.ListenHandle(_listening));
        builder.Services.AddRoutingCore();
        var app = builder.Build();
        DemoDownstreams.MapServices(app.MapGroup("/demo"), _timeProvider);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _app?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }
}
