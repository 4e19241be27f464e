using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Demo;

/// <summary>
/// The demo services again, on a loopback port of their own, for the gateway's own calls to them (the demo clusters
/// point here). On the gateway's port they would go with it: on SIGTERM Kestrel stops accepting at once, and an
/// aggregate in flight whose next call needs a new connection (a dependent source, a retry) would fail during the
/// drain. As a hosted service this server stops only after the gateway's server has drained.
/// </summary>
internal sealed class DemoServer(TimeProvider timeProvider) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>Where the demo services answer (<c>http://127.0.0.1:port/</c>); set once started.</summary>
    public Uri? Address { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Nothing from the gateway's configuration, environment or logging: only Kestrel, routing and the endpoints.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddRoutingCore();
        var app = builder.Build();
        DemoDownstreams.MapServices(app.MapGroup("/demo"), timeProvider);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        Address = new Uri(address.TrimEnd('/') + "/");
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
