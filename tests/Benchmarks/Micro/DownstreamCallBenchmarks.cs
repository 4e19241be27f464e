using System.Diagnostics.CodeAnalysis;
using System.Net;
using BenchmarkDotNet.Attributes;
using Gateway.Aggregation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Gateway.Benchmarks;

/// <summary>
/// The cost of one aggregate request of one source through the executor, without the network: a handler
/// answers at once. Compares no resilience with retry, breaker and both, to price Polly on the hot path.
/// </summary>
[MemoryDiagnoser]
public class DownstreamCallBenchmarks
{
    private FanOutExecutor _executor = null!;
    private AggregatePlan _plan = null!;
    private AggregateRequest _request;

    public enum Strategies
    {
        None,
        Retry,
        Breaker,
        RetryAndBreaker,
    }

    [ParamsAllValues]
    public Strategies Resilience { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var resilience = Resilience switch
        {
            Strategies.Retry => """, "Resilience": { "Retry": { "MaxRetryAttempts": 2, "Delay": "50ms" } }""",
            Strategies.Breaker => """, "Resilience": { "CircuitBreaker": { "FailureRatio": 0.5 } }""",
            Strategies.RetryAndBreaker => """, "Resilience": { "Retry": { "MaxRetryAttempts": 2, "Delay": "50ms" }, "CircuitBreaker": { "FailureRatio": 0.5 } }""",
            _ => "",
        };
        var json = $$"""
            { "ReverseProxy": { "Clusters": { "a": { "Destinations": { "d": { "Address": "http://a.test/" } } } } },
              "Gateway": { "Downstreams": { "a": { "Timeout": "2s"{{resilience}} } },
                "Aggregates": { "x": { "Route": "/x", "Sources": { "s": { "Cluster": "a", "Path": "/s", "Required": true } } } } } }
            """;
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();
        var catalog = new AggregationCatalog(configuration, TimeProvider.System);
        catalog.ThrowIfInvalid();
        _plan = catalog.CreatePlan(catalog.Configured.Single());
        var client = new Gateway.Downstream.DownstreamClient(new OneCluster(), [], [], new Gateway.Downstream.CallTransports(Microsoft.Extensions.Options.Options.Create(new Gateway.Configuration.GatewayOptions())), TimeProvider.System);
        _executor = new FanOutExecutor(new Gateway.Downstream.DownstreamInvoker(client, TimeProvider.System, NullLogger<Gateway.Downstream.DownstreamInvoker>.Instance), TimeProvider.System, NullLogger<FanOutExecutor>.Instance, Metrics(), TimeSpan.FromMilliseconds(5), CancellationToken.None);
        _request = new AggregateRequest([], [], TimeSpan.FromSeconds(5));
    }

    // The instruments on a meter of their own, nothing listening: what a gateway without exporters pays.
    private static Gateway.Telemetry.GatewayMetrics Metrics() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider()
            .GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());

    [Benchmark]
    public async Task<int> OneSource()
    {
        var results = await _executor.ExecuteAsync(_plan, _request, CancellationToken.None).ConfigureAwait(false);
        results[0].Body?.Release();
        return results.Length;
    }

    private sealed class Answer : HttpMessageHandler
    {
        private static readonly byte[] Json = "{\"id\":1}"u8.ToArray();

        // Yields as a real socket does, so every async layer above it suspends and resumes.
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Yield();
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(Json) };
        }
    }

    private sealed class OneCluster : IProxyStateLookup
    {
        private readonly ClusterState _cluster;

        public OneCluster()
        {
            var destination = new DestinationState("d", new DestinationModel(new DestinationConfig { Address = "http://a.test/" }));
            _cluster = new ClusterState("a", new ClusterModel(new ClusterConfig { ClusterId = "a" }, new HttpMessageInvoker(new Answer())));
            _cluster.DestinationsState = new ClusterDestinationsState([destination], [destination]);
        }

        public bool TryGetCluster(string id, [NotNullWhen(true)] out ClusterState? cluster)
        {
            cluster = _cluster;
            return true;
        }

        public IEnumerable<ClusterState> GetClusters() => [_cluster];

        public bool TryGetRoute(string id, [NotNullWhen(true)] out RouteModel? route)
        {
            route = null;
            return false;
        }

        public IEnumerable<RouteModel> GetRoutes() => [];
    }
}
