using Yarp.ReverseProxy.Configuration;

namespace Gateway.Demo;

/// <summary>
/// Points the demo clusters (those with <c>Metadata:DemoSelf</c> = <c>true</c>) at the address the demo services
/// actually listen on (<see cref="DemoServer"/>'s loopback port), whatever <c>--urls</c> says. The address is known
/// once the host has started; then the configuration is reloaded and YARP applies the new destinations.
/// </summary>
internal sealed class DemoSelfAddress(DemoServer demo, IConfiguration configuration) : IProxyConfigFilter, IHostedService
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

    /// <summary>Called once the host has started (the demo server listens by then): takes its address and reloads.</summary>
    public void OnStarted()
    {
        if (demo.Address is not { } address)
        {
            return;
        }

        _self = address;
        (configuration as IConfigurationRoot)?.Reload();
    }

    internal void Register(IHostApplicationLifetime lifetime) =>
        _started = lifetime.ApplicationStarted.Register(static s => ((DemoSelfAddress)s!).OnStarted(), this);
}
