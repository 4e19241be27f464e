using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Gateway.Health;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.IntegrationTests.Shutdown;

/// <summary>
/// SIGTERM to the real gateway process: the aggregates and routes in flight finish within
/// <c>Gateway:Shutdown:DrainTimeout</c>, what outlasts it answers <c>cancelled</c>, and the process exits.
/// </summary>
public sealed class DrainTests
{
    [Fact]
    public async Task Sigterm_AggregateAndRouteInFlight_BothFinishWithTheirDataAndTheProcessExits()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/slow", d.HeldJson(null, """{"v":42}""", TimeSpan.FromSeconds(3))));
        await using var gateway = await StartAsync(downstream, drainTimeout: null);
        using var client = Client(gateway.Address);

        var aggregate = TimedGetAsync(client, "agg");
        var route = TimedGetAsync(client, "proxy/slow");
        await Poll.UntilAsync(() => downstream.RequestsTo("/slow").Count == 2, "both calls at the downstream");
        var signalled = Stopwatch.StartNew();
        gateway.Process.Terminate();

        // Right after the signal the gateway takes no new request: readiness goes down (a new connection is refused
        // once Kestrel has stopped listening; anything that still reaches the check gets 503).
        var readinessDown = ReadinessDownAsync(gateway.Address, signalled);

        var (aggregateAnswer, aggregateBody, _) = await aggregate.WaitAsync(Signal.Patience);
        Assert.True(aggregateAnswer.StatusCode == HttpStatusCode.OK, $"aggregate: {(int)aggregateAnswer.StatusCode} {aggregateBody}");
        Assert.Equal(42, JsonDocument.Parse(aggregateBody).RootElement.GetProperty("data").GetProperty("slow").GetProperty("v").GetInt32());
        // Kestrel lets the answer out and then closes: the client is told not to reuse the connection.
        Assert.True(aggregateAnswer.Headers.ConnectionClose, "the answer during the drain did not say Connection: close");
        var (routeAnswer, routeBody, _) = await route.WaitAsync(Signal.Patience);
        Assert.True(routeAnswer.StatusCode == HttpStatusCode.OK, $"route: {(int)routeAnswer.StatusCode} {routeBody}");
        Assert.Equal("""{"v":42}""", routeBody);
        var (readiness, downAfter) = await readinessDown;
        Assert.True(downAfter < TimeSpan.FromSeconds(2), $"readiness still answered 200 {downAfter} after the signal");
        Assert.True(readiness is null or HttpStatusCode.ServiceUnavailable, $"readiness answered {readiness} while draining");

        await gateway.Process.WaitForExitAsync(TimeSpan.FromSeconds(20));
        Assert.True(gateway.Process.ExitCode == 0, $"exit code {gateway.Process.ExitCode}: {gateway.Process}");
        Assert.True(signalled.Elapsed < TimeSpan.FromSeconds(15), $"exited {signalled.Elapsed} after the signal");
        Assert.Contains("\"EventId\":902", gateway.Process.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_AggregateAndRouteOutlastTheDrain_BothCancelledAfterTheDrainAndTheProcessExits()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/slow", d.HeldJson(null, """{"v":42}""", TimeSpan.FromSeconds(5))));
        await using var gateway = await StartAsync(downstream, drainTimeout: "1s");
        using var client = Client(gateway.Address);

        var aggregate = TimedGetAsync(client, "agg");
        var route = TimedGetAsync(client, "proxy/slow");
        await Poll.UntilAsync(() => downstream.RequestsTo("/slow").Count == 2, "both calls at the downstream");
        var signalled = Stopwatch.StartNew();
        var signalledAt = Stopwatch.GetTimestamp();
        gateway.Process.Terminate();

        var (aggregateAnswer, aggregateBody, aggregateAt) = await aggregate.WaitAsync(Signal.Patience);
        Assert.True(aggregateAnswer.StatusCode == HttpStatusCode.ServiceUnavailable, $"aggregate: {(int)aggregateAnswer.StatusCode} {aggregateBody}");
        var error = JsonDocument.Parse(aggregateBody).RootElement.GetProperty("errors")[0];
        Assert.Equal("cancelled", error.GetProperty("kind").GetString());
        Assert.Contains("shutting down", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.NotNull(aggregateAnswer.Headers.RetryAfter);

        var (routeAnswer, routeBody, routeAt) = await route.WaitAsync(Signal.Patience);
        Assert.True(routeAnswer.StatusCode == HttpStatusCode.ServiceUnavailable, $"route: {(int)routeAnswer.StatusCode} {routeBody}");
        Assert.Equal("application/problem+json", routeAnswer.Content.Headers.ContentType?.MediaType);
        Assert.Contains("shutting down", routeBody, StringComparison.Ordinal);
        Assert.NotNull(routeAnswer.Headers.RetryAfter);

        // Cut when the drain (1 s) is over: not at the signal, nor when the downstream would have answered (5 s).
        foreach (var (what, at) in new[] { ("aggregate", aggregateAt), ("route", routeAt) })
        {
            var after = Stopwatch.GetElapsedTime(signalledAt, at);
            Assert.True(after >= TimeSpan.FromSeconds(0.8) && after < TimeSpan.FromSeconds(4), $"the {what} answered {after} after the signal");
        }

        await gateway.Process.WaitForExitAsync(TimeSpan.FromSeconds(20));
        Assert.True(gateway.Process.ExitCode == 0, $"exit code {gateway.Process.ExitCode}: {gateway.Process}");
        Assert.True(signalled.Elapsed < TimeSpan.FromSeconds(4.5), $"exited {signalled.Elapsed} after the signal: the downstream's 5 s decided, not the 1 s drain");
        Assert.Contains("\"EventId\":903", gateway.Process.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_DrainTimeoutNegative_ExitsWithCode2NamingTheKey()
    {
        var config = new GatewayConfig().Cluster("svc", new Uri("http://127.0.0.1:1/"))
            .Aggregate("agg", "/agg", s => s.Source("a", "svc", "/a"));
        config.Gateway["Shutdown"] = new System.Text.Json.Nodes.JsonObject { ["DrainTimeout"] = "-5s" };
        var path = Path.Combine(Path.GetTempPath(), $"gateway-drain-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, config.ToJson());
        try
        {
            await using var gateway = await GatewayProcess.RunToExitAsync(["--config", path, "--urls", "http://127.0.0.1:0"]);

            Assert.Equal(2, gateway.ExitCode);
            Assert.Contains("Gateway:Shutdown:DrainTimeout", gateway.StandardError, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", gateway.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Build_DrainTimeoutSet_HostShutdownTimeoutIsTheDrainPlusItsMargin()
    {
        var config = new GatewayConfig().Cluster("svc", new Uri("http://127.0.0.1:1/"))
            .Aggregate("agg", "/agg", s => s.Source("a", "svc", "/a"));
        config.Gateway["Shutdown"] = new System.Text.Json.Nodes.JsonObject { ["DrainTimeout"] = "3s" };
        var path = Path.Combine(Path.GetTempPath(), $"gateway-drain-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, config.ToJson());
        try
        {
            await using var app = GatewayHost.Build(["--config", path, "--urls", "http://127.0.0.1:0"]);

            var host = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.Extensions.Hosting.HostOptions>>().Value;
            Assert.Equal(TimeSpan.FromSeconds(8), host.ShutdownTimeout);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task<RunningGateway> StartAsync(TestDownstream downstream, string? drainTimeout)
    {
        var config = new GatewayConfig()
            .Cluster("svc", downstream.BaseAddress)
            .Aggregate("agg", "/agg", s => s.Source("slow", "svc", "/slow", required: true, timeout: TimeSpan.FromSeconds(20)), timeout: TimeSpan.FromSeconds(20))
            .Route("pass", "svc", "/proxy/{**rest}", configure: r => r["Transforms"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["PathPattern"] = "/{**rest}" }));
        // JSON lines: the drain's own lines can be looked for by event name; the host's say where it listens.
        config.Gateway["Logging"] = new System.Text.Json.Nodes.JsonObject { ["Json"] = true };
        config.Root["Logging"]!["LogLevel"]!["Microsoft.Hosting.Lifetime"] = "Information";
        config.Root["Logging"]!["LogLevel"]!["Gateway.Shutdown"] = "Information";
        if (drainTimeout is not null)
        {
            config.Gateway["Shutdown"] = new System.Text.Json.Nodes.JsonObject { ["DrainTimeout"] = drainTimeout };
        }

        var path = Path.Combine(Path.GetTempPath(), $"gateway-drain-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, config.ToJson());
        var process = GatewayProcess.Start(["--config", path, "--urls", "http://127.0.0.1:0"]);
        var listening = process.WaitUntilListeningAsync(TimeSpan.FromSeconds(30));
        await Poll.UntilAsync(() => listening.IsCompleted || process.HasExited, "the gateway listening", TimeSpan.FromSeconds(30));
        Assert.False(process.HasExited, $"the gateway did not start: {process}");
        return new RunningGateway(process, await listening, path);
    }

    private static HttpClient Client(Uri address) => new(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>GETs <paramref name="path"/>; with the answer, the <see cref="Stopwatch"/> timestamp at which it was read whole.</summary>
    private static async Task<(HttpResponseMessage Answer, string Body, long At)> TimedGetAsync(HttpClient client, string path)
    {
        var answer = await client.GetAsync(new Uri(path, UriKind.Relative));
        var body = await answer.Content.ReadAsStringAsync();
        return (answer, body, Stopwatch.GetTimestamp());
    }

    /// <summary>Asks for readiness on new connections until it is not 200: that answer (null: refused) and when, since the signal.</summary>
    private static async Task<(HttpStatusCode? Status, TimeSpan After)> ReadinessDownAsync(Uri address, Stopwatch signalled)
    {
        while (true)
        {
            var status = await ReadinessAsync(address);
            if (status != HttpStatusCode.OK || signalled.Elapsed > TimeSpan.FromSeconds(2))
            {
                return (status, signalled.Elapsed);
            }

            await Task.Delay(20);
        }
    }

    /// <summary>The readiness status on a new connection, or null when no connection could be made.</summary>
    private static async Task<HttpStatusCode?> ReadinessAsync(Uri address)
    {
        using var client = Client(address);
        try
        {
            using var answer = await client.GetAsync(new Uri(HealthExtensions.ReadyPath.TrimStart('/'), UriKind.Relative));
            return answer.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private sealed class RunningGateway(GatewayProcess process, Uri address, string configPath) : IAsyncDisposable
    {
        public GatewayProcess Process { get; } = process;

        public Uri Address { get; } = address;

        public async ValueTask DisposeAsync()
        {
            await Process.DisposeAsync();
            File.Delete(configPath);
        }
    }
}
