using System.Net;
using System.Text.Json.Nodes;
using Gateway.Aggregation;
using Gateway.Caching;
using Gateway.Downstream;
using Gateway.Model;
using Gateway.Tests.Aggregation;
using Gateway.Tests.Configuration;
using Gateway.Tests.Downstream;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Caching;

/// <summary>
/// The refresh machinery (queue, scheduler, workers) over a fake downstream handler and fake time, plus an
/// executor for aggregate "agg" when the configuration declares one.
/// </summary>
internal sealed class CachedDataHarness : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly RefreshWorkers _workers;
    private bool _workersStarted;

    /// <param name="datasets">The <c>Gateway:CachedData</c> section.</param>
    /// <param name="aggregate">Aggregate "agg", when a test reads the datasets through the fan-out.</param>
    /// <param name="queueCapacity">The channel's capacity; by default one per dataset, as the gateway has it.</param>
    /// <param name="store">The shared store (a fake Redis), when the instances share their datasets.</param>
    public CachedDataHarness(JsonObject datasets, JsonObject? aggregate = null, int workers = 4, int? queueCapacity = null, JsonObject? downstreams = null, ISharedDatasetStore? store = null, FakeTimeProvider? time = null)
    {
        Time = time ?? new FakeTimeProvider();
        var config = new JsonObject
        {
            ["ReverseProxy"] = new JsonObject
            {
                ["Clusters"] = new JsonObject
                {
                    ["catalog"] = new JsonObject { ["Destinations"] = new JsonObject { ["a"] = new JsonObject { ["Address"] = "http://catalog.test/" } } },
                },
            },
            ["Gateway"] = new JsonObject { ["CachedData"] = datasets, ["Downstreams"] = downstreams ?? [] },
        };
        if (aggregate is not null)
        {
            config["Gateway"]!["Aggregates"] = new JsonObject { ["agg"] = aggregate };
        }

        Catalog = AggregationCatalogTests.Load(config.ToJsonString(), Time);
        Catalog.ThrowIfInvalid();
        if (aggregate is not null)
        {
            Plan = Catalog.CreatePlan(Catalog.Configured.Single());
        }

        var proxyState = new TestProxyState(new FuncHandler((request, ct) => Handler(request, ct)));
        proxyState.AddCluster("catalog", "http://catalog.test/");
        var client = new DownstreamClient(proxyState, [], [], new CallTransports(Microsoft.Extensions.Options.Options.Create(new Gateway.Configuration.GatewayOptions())), Time);
        Queue = new RefreshQueue(queueCapacity ?? Catalog.Datasets.All.Count);
        Scheduler = new RefreshScheduler(Catalog.Datasets, Queue, Time, NullLogger<RefreshScheduler>.Instance, () => Random);
        Sharing = store is null ? null : new DatasetSharing(store, Time, SharingLog);
        _workers = new RefreshWorkers(Queue, new DatasetRefresher(new DownstreamInvoker(client, Time, NullLogger<DownstreamInvoker>.Instance), Time, NullLogger<DatasetRefresher>.Instance, Telemetry.TestMetrics.Create(), Sharing), Scheduler, workers, Catalog.Datasets);
        Executor = new FanOutExecutor(new DownstreamInvoker(client, Time, NullLogger<DownstreamInvoker>.Instance), Time, NullLogger<FanOutExecutor>.Instance, Telemetry.TestMetrics.Create(), TimeSpan.Zero, _stopping.Token);
    }

    public FakeTimeProvider Time { get; }

    /// <summary>The sharing of datasets through the store, when the harness has one.</summary>
    public DatasetSharing? Sharing { get; }

    /// <summary>What <see cref="Sharing"/> logged.</summary>
    public FakeLogger<DatasetSharing> SharingLog { get; } = new();

    /// <summary>What the downstream answers; tests change it as they go.</summary>
    public Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> Handler { get; set; } =
        (_, _) => Task.FromResult(FanOutHarness.Json("""[{"id":"books"},{"id":"music"}]"""));

    /// <summary>The random draw the scheduler's jitter uses (0 to 1); by default a real one.</summary>
    public double Random => Draw?.Invoke() ?? System.Random.Shared.NextDouble();

    public Func<double>? Draw { get; set; }

    public AggregationCatalog Catalog { get; }

    public AggregatePlan? Plan { get; }

    public FanOutExecutor Executor { get; }

    public RefreshQueue Queue { get; }

    public RefreshScheduler Scheduler { get; }

    public CachedDataset Dataset(string name) => Catalog.Datasets.TryGet(name, out var d) ? d : throw new ArgumentException(name);

    /// <summary>Starts the scheduler (every dataset due at once) and, unless told not to, the workers.</summary>
    public async Task StartAsync(bool workers = true)
    {
        if (workers)
        {
            await _workers.StartAsync(CancellationToken.None);
            _workersStarted = true;
        }

        await Scheduler.StartAsync(CancellationToken.None);
        await Scheduler.StartedAsync(CancellationToken.None);
        Time.Advance(TimeSpan.Zero);
    }

    public Task StopWorkersAsync() => _workers.StopAsync(CancellationToken.None);

    /// <summary>Waits (bounded, on real time: the refresh runs on the thread pool) until the refresh under way has ended and re-armed the timer.</summary>
    public async Task RefreshedAsync(CachedDataset dataset)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (dataset.IsPending || dataset.NextRefreshAt <= Time.GetTimestamp())
        {
            Assert.True(DateTime.UtcNow < until, $"dataset {dataset.Name} was not refreshed");
            await Task.Delay(1);
        }
    }

    /// <summary>Time until the dataset's next refresh is due.</summary>
    public TimeSpan DueIn(CachedDataset dataset) => Time.GetElapsedTime(Time.GetTimestamp(), dataset.NextRefreshAt);

    /// <summary>Advances fake time to the dataset's next refresh and waits for that refresh to end.</summary>
    public async Task<TimeSpan> NextRefreshAsync(CachedDataset dataset)
    {
        var delay = DueIn(dataset);
        Time.Advance(delay);
        await RefreshedAsync(dataset);
        return delay;
    }

    public Task<SourceResult[]> RunAsync(params string?[] clientValues) =>
        Executor.ExecuteAsync(Plan!, new AggregateRequest(clientValues, [], Plan!.Definition.Timeout), CancellationToken.None);

    public SourceResult Result(SourceResult[] results, string source) =>
        results[Plan!.Definition.Sources.Single(s => s.Name == source).Index];

    public static JsonObject DatasetConfig(string refreshInterval, double? jitter = null, string? maxStaleness = null, string? timeout = null, string path = "/categories", bool required = false)
    {
        var dataset = new JsonObject { ["Cluster"] = "catalog", ["Path"] = path, ["RefreshInterval"] = refreshInterval, ["Required"] = required };
        if (jitter is { } j)
        {
            dataset["Jitter"] = j;
        }

        if (maxStaleness is not null)
        {
            dataset["MaxStaleness"] = maxStaleness;
        }

        if (timeout is not null)
        {
            dataset["Timeout"] = timeout;
        }

        return dataset;
    }

    public static HttpResponseMessage Status(HttpStatusCode status) => new(status);

    public async ValueTask DisposeAsync()
    {
        if (_workersStarted)
        {
            await _workers.StopAsync(CancellationToken.None);
        }

        Scheduler.Dispose();
        _workers.Dispose();
        _stopping.Dispose();
    }

    private sealed class FuncHandler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> handler) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            handler(request, cancellationToken);
    }
}
