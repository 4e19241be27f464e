using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Aggregation;
using Gateway.Downstream;
using Gateway.Model;
using Gateway.Tests.Configuration;
using Gateway.Tests.Downstream;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Aggregation;

/// <summary>An executor over a fake downstream handler and fake time, for one aggregate named "agg".</summary>
internal sealed class FanOutHarness : IDisposable
{
    private readonly AggregationCatalog _catalog;
    private readonly CancellationTokenSource _stopping = new();

    public FanOutHarness(JsonObject aggregate, Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> handler, JsonObject? downstreams = null, JsonObject? gateway = null, ILogger<FanOutExecutor>? logger = null)
    {
        var config = new JsonObject
        {
            ["ReverseProxy"] = new JsonObject
            {
                ["Clusters"] = new JsonObject
                {
                    ["users"] = new JsonObject { ["Destinations"] = new JsonObject { ["a"] = new JsonObject { ["Address"] = "http://users.test/" } } },
                    ["orders"] = new JsonObject { ["Destinations"] = new JsonObject { ["a"] = new JsonObject { ["Address"] = "http://orders.test/base/" } } },
                },
            },
            ["Gateway"] = gateway ?? new JsonObject { ["PropagateHeaders"] = new JsonArray("X-Tenant") },
        };
        config["Gateway"]!["Downstreams"] = downstreams ?? [];
        config["Gateway"]!["Aggregates"] = new JsonObject { ["agg"] = aggregate };
        _catalog = AggregationCatalogTests.Load(config.ToJsonString(), Time);
        _catalog.ThrowIfInvalid();
        Plan = _catalog.CreatePlan(_catalog.Configured.Single());
        ProxyState = new TestProxyState(new FuncHandler(handler));
        ProxyState.AddCluster("users", "http://users.test/");
        ProxyState.AddCluster("orders", "http://orders.test/base/");
        var client = new DownstreamClient(ProxyState, [], [], new CallTransports(Microsoft.Extensions.Options.Options.Create(new Gateway.Configuration.GatewayOptions())), Time);
        Executor = new FanOutExecutor(new DownstreamInvoker(client, Time, NullLogger<DownstreamInvoker>.Instance), Time, logger ?? NullLogger<FanOutExecutor>.Instance, Telemetry.TestMetrics.Create(), _catalog.Options.Deadline.MinBudget, _stopping.Token);
    }

    public TestProxyState ProxyState { get; }

    /// <summary>Stops the executor as the host does at shutdown.</summary>
    public void Stop() => _stopping.Cancel();

    public FakeTimeProvider Time { get; } = new();

    public AggregatePlan Plan { get; }

    public FanOutExecutor Executor { get; }

    public Task<SourceResult[]> RunAsync(CancellationToken cancellationToken = default, params string?[] clientValues) =>
        RunWithDeadlineAsync(Plan.Definition.Timeout, cancellationToken, clientValues);

    public Task<SourceResult[]> RunWithHeadersAsync(KeyValuePair<string, StringValues>[] headers, params string?[] clientValues) =>
        Executor.ExecuteAsync(Plan, new AggregateRequest(clientValues, headers, Plan.Definition.Timeout), default);

    public Task<SourceResult[]> RunWithDeadlineAsync(TimeSpan deadline, CancellationToken cancellationToken = default, params string?[] clientValues) =>
        Executor.ExecuteAsync(Plan, new AggregateRequest(clientValues, [new("X-Tenant", new StringValues("r-1"))], deadline), cancellationToken);

    public SourceResult Result(SourceResult[] results, string source) =>
        results[Plan.Definition.Sources.Single(s => s.Name == source).Index];

    public static JsonObject Source(string cluster, string path, bool required = false, string? timeout = null)
    {
        var source = new JsonObject { ["Cluster"] = cluster, ["Path"] = path, ["Required"] = required };
        if (timeout is not null)
        {
            source["Timeout"] = timeout;
        }

        return source;
    }

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public void Dispose()
    {
        _stopping.Dispose();
    }

    private sealed class FuncHandler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> handler) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            handler(request, cancellationToken);
    }
}

internal static class TaskExtensions
{
    /// <summary>A bound on every wait, so a broken engine fails the test instead of hanging it.</summary>
    public static Task<T> Within<T>(this Task<T> task, int seconds = 10) => task.WaitAsync(TimeSpan.FromSeconds(seconds));

    public static Task Within(this Task task, int seconds = 10) => task.WaitAsync(TimeSpan.FromSeconds(seconds));
}
