using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Demo;

/// <summary>
/// Points the demo clusters (those with <c>Metadata:DemoSelf</c> = <c>true</c>) at the address the gateway
/// actually listens on, so that <c>--urls</c> elsewhere keeps the demo working. The address is known only
/// once the server has started; then the configuration is reloaded and YARP applies the new destinations.
/// </summary>
internal sealed class DemoSelfAddress(IServer server, IConfiguration configuration) : IProxyConfigFilter, IHostedService
{
    public const string MetadataKey = "DemoSelf";

    private volatile Uri? _self;
    private CancellationTokenRegistration _started;

    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        if (_self is not { } self || cluster.Metadata?.TryGetValue(MetadataKey, out var flag) != true || !bool.TryParse(flag, out var on) || !on || cluster.Destinations is null)
        {
            return ValueTask.FromResult(cluster);
        }

        var destinations = cluster.Destinations.ToDictionary(
            d => d.Key,
            d => Uri.TryCreate(d.Value.Address, UriKind.Absolute, out var address)
                ? d.Value with { Address = new UriBuilder(address) { Scheme = self.Scheme, Host = self.Host, Port = self.Port }.Uri.ToString() }
                : d.Value,
            StringComparer.OrdinalIgnoreCase);
        return ValueTask.FromResult(cluster with { Destinations = destinations });
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) => ValueTask.FromResult(route);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken) => await _started.DisposeAsync().ConfigureAwait(false);

    /// <summary>Called once the server listens: takes its first address (a wildcard host becomes loopback) and reloads.</summary>
    public void OnStarted()
    {
        // An http address where there is one: a development certificate may not cover 127.0.0.1.
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var address = addresses.FirstOrDefault(a => a.StartsWith("http:", StringComparison.OrdinalIgnoreCase)) ?? addresses.FirstOrDefault();
        if (address is null || !Uri.TryCreate(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri))
        {
            return;
        }

        var host = uri.Host is "0.0.0.0" or "localhost" ? "127.0.0.1" : uri.Host is "[::]" ? "[::1]" : uri.Host;
        _self = new UriBuilder(uri.Scheme, host, uri.Port).Uri;
        (configuration as IConfigurationRoot)?.Reload();
    }

    internal void Register(IHostApplicationLifetime lifetime) =>
        _started = lifetime.ApplicationStarted.Register(static s => ((DemoSelfAddress)s!).OnStarted(), this);
}
