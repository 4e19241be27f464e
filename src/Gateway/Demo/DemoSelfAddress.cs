namespace Gateway.Demo;

/// <summary>
/// Points the demo clusters (those with <c>Metadata:DemoSelf</c> = <c>true</c>) at the address the demo services
/// actually listen on (<see cref="DemoServer"/>'s loopback port), whatever <c>--urls</c> says. The address is known
/// once the host has started; then this configuration source, the last one, gets the clusters' destination addresses
/// and raises one change, which YARP applies as a reload: YARP's "Loading proxy data from config." twice at start, its
/// first load and this one. (Reloading the whole configuration instead raised one change per provider: five lines.)
/// </summary>
internal sealed class DemoSelfAddress(DemoServer demo, IConfiguration configuration, DemoSelfAddress.Overrides source) : IHostedService
{
    public const string MetadataKey = "DemoSelf";

    private CancellationTokenRegistration _started;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken) => await _started.DisposeAsync().ConfigureAwait(false);

    /// <summary>Called once the host has started (the demo server listens by then): takes its address and reloads.</summary>
    public void OnStarted()
    {
        if (demo.Address is not { } self)
        {
            return;
        }

        var addresses = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var cluster in configuration.GetSection("ReverseProxy:Clusters").GetChildren())
        {
            if (!bool.TryParse(cluster[$"Metadata:{MetadataKey}"], out var on) || !on)
            {
                continue;
            }

            foreach (var destination in cluster.GetSection("Destinations").GetChildren())
            {
                if (Uri.TryCreate(destination["Address"], UriKind.Absolute, out var address))
                {
                    addresses[$"{destination.Path}:Address"] = new UriBuilder(address) { Scheme = self.Scheme, Host = self.Host, Port = self.Port }.Uri.ToString();
                }
            }
        }

        source.Set(addresses);
    }

    internal void Register(IHostApplicationLifetime lifetime) =>
        _started = lifetime.ApplicationStarted.Register(static s => ((DemoSelfAddress)s!).OnStarted(), this);

    /// <summary>A configuration source of its own, added last, so that its keys win and its one change is the only one.</summary>
    internal sealed class Overrides : ConfigurationProvider, IConfigurationSource
    {
        public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

        public void Set(Dictionary<string, string?> data)
        {
            Data = data;
            OnReload();
        }
    }
}
