using Gateway.Health;
using Gateway.Tests.Configuration;
using Gateway.Tests.Downstream;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests.Health;

public sealed class ConfigurationReadinessCheckTests
{
    private const string TwoClusters = """
        {"ReverseProxy":{"Clusters":{
          "users":{"Destinations":{"d":{"Address":"http://127.0.0.1:1/"}}},
          "orders":{"Destinations":{"d":{"Address":"http://127.0.0.1:1/"}}}}},
         "Gateway":{"Aggregates":{"a":{"Route":"/a","Sources":{"u":{"Cluster":"users","Path":"/u"},"o":{"Cluster":"orders","Path":"/o"}}}}}}
        """;

    [Fact]
    public async Task Check_ClusterMissingFromYarpState_UnhealthyNamingIt()
    {
        var state = new TestProxyState(new HttpClientHandler());
        state.AddCluster("users", "http://127.0.0.1:1/");
        var check = new ConfigurationReadinessCheck(AggregationCatalogTests.Load(TwoClusters).Downstreams, state, new Lifetime(started: true));

        var result = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("orders", result.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("users", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_EveryClusterPresentAndStarted_Healthy_NotStarted_Unhealthy()
    {
        var state = new TestProxyState(new HttpClientHandler());
        state.AddCluster("users", "http://127.0.0.1:1/");
        state.AddCluster("orders", "http://127.0.0.1:1/");
        var catalog = AggregationCatalogTests.Load(TwoClusters);

        Assert.Equal(HealthStatus.Healthy, (await new ConfigurationReadinessCheck(catalog.Downstreams, state, new Lifetime(started: true)).CheckHealthAsync(new HealthCheckContext())).Status);
        Assert.Equal(HealthStatus.Unhealthy, (await new ConfigurationReadinessCheck(catalog.Downstreams, state, new Lifetime(started: false)).CheckHealthAsync(new HealthCheckContext())).Status);
    }

    [Fact]
    public async Task Check_HostStopping_UnhealthySayingSo()
    {
        var state = new TestProxyState(new HttpClientHandler());
        state.AddCluster("users", "http://127.0.0.1:1/");
        state.AddCluster("orders", "http://127.0.0.1:1/");
        using var lifetime = new Gateway.Tests.Shutdown.StoppableLifetime();
        var check = new ConfigurationReadinessCheck(AggregationCatalogTests.Load(TwoClusters).Downstreams, state, lifetime);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);

        lifetime.StopApplication();
        var result = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal("the gateway is shutting down", result.Description);
    }

    private sealed class Lifetime : IHostApplicationLifetime
    {
        public Lifetime(bool started)
        {
            var source = new CancellationTokenSource();
            if (started)
            {
                source.Cancel();
            }

            ApplicationStarted = source.Token;
        }

        public CancellationToken ApplicationStarted { get; }

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }
}
