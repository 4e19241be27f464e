using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Health;
using Gateway.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.IntegrationTests.Deploy;

public sealed partial class ComposeStackTests(ITestOutputHelper output)
{
    private const int LoadLoops = 8;
    private const int MaxRequestsPerLoop = 5_000;
    private static readonly TimeSpan MaxLoadFor = TimeSpan.FromSeconds(40);

    /// <summary>
    /// A rolling restart under load: client loops send aggregates and routes through the compose stack's nginx while
    /// one gateway gets SIGTERM, exits and is started again on the same address; every request comes back 200 and
    /// none with a source cut by the shutdown (an optional source <c>cancelled</c> still makes a 200).
    /// Bounded: <see cref="LoadLoops"/> loops until the restarted instance has served for a while, at most
    /// <see cref="MaxLoadFor"/> and <see cref="MaxRequestsPerLoop"/> requests each.
    /// </summary>
    [Fact]
    public async Task ComposeNginx_UnderLoad_OneGatewaySigtermedAndRestarted_NoRequestLost()
    {
        await using var redis = await RedisServer.StartAsync();
        var config = JsonNode.Parse(Repository.Read(GatewayJson))!;
        config["Gateway"]!["Cache"]!["Redis"] = redis.ConnectionString;
        // The stack as compose runs it: the embedded demo serves the downstreams. The machine running the tests is
        // shared and noisy: the required demo calls get seconds instead of 800 ms, so that a slow moment is not
        // counted as a request lost to the restart.
        config["Gateway"]!["Downstreams"]!["users"]!["Timeout"] = "5s";
        foreach (var aggregate in config["Gateway"]!["Aggregates"]!.AsObject())
        {
            aggregate.Value!["Timeout"] = "5s";
        }
        var configFile = Path.Combine(Directory.CreateTempSubdirectory("gateway-compose-").FullName, "gateway.json");
        await File.WriteAllTextAsync(configFile, config.ToJsonString());
        var environment = new Dictionary<string, string?> { [GatewayConfigurationExtensions.ConfigVariable] = configFile };

        // Fixed ports: the restarted instance comes back where nginx expects it.
        var ports = new[] { Ports.Closed(), Ports.Closed() };
        GatewayProcess StartGateway(int port) => GatewayProcess.Start(["--urls", $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"], environment);
        var first = StartGateway(ports[0]);
        await using var second = StartGateway(ports[1]);
        GatewayProcess? restarted = null;
        try
        {
            await ListeningAsync(first);
            await ListeningAsync(second);

            var servers = 0;
            var nginxConf = UpstreamServer().Replace(Repository.Read(NginxConf), m =>
                $"{m.Groups[1].Value}127.0.0.1:{ports[servers++].ToString(CultureInfo.InvariantCulture)}");
            Assert.Equal(2, servers);
            var port = Ports.Closed();
            nginxConf = Listen().Replace(nginxConf, $"${{1}}127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)};");
            await using var nginx = NginxServer.Start(nginxConf);
            var lb = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
            using (var probe = new HttpClient { BaseAddress = lb })
            {
                await Poll.UntilAsync(async () => !nginx.HasExited && await AnswersAsync(probe, HealthExtensions.ReadyPath.TrimStart('/')),
                    ok => ok || nginx.HasExited, "nginx answering through the gateways");
            }

            Assert.False(nginx.HasExited, $"nginx stopped: {nginx}");
            using (var warmup = new HttpClient { BaseAddress = lb })
            {
                // Both instances JIT-compiled and connected to their demo downstreams before anything is counted.
                foreach (var path in Load.Paths.SelectMany(p => Enumerable.Repeat(p, 10)))
                {
                    using var answer = await warmup.GetAsync(new Uri(path, UriKind.Relative));
                }
            }

            var load = new Load();
            var loadClock = Stopwatch.StartNew();
            var loops = Enumerable.Range(0, LoadLoops).Select(i => Task.Run(() => load.RunAsync(lb, i, loadClock))).ToArray();

            await Task.Delay(TimeSpan.FromSeconds(3));
            var before = load.Sent;
            var signalled = Stopwatch.StartNew();
            first.Terminate();
            await first.WaitForExitAsync(TimeSpan.FromSeconds(40));
            var stoppedAfter = signalled.Elapsed;
            var exitCode = first.ExitCode;
            var duringStop = load.Sent - before;
            restarted = StartGateway(ports[0]);
            await ListeningAsync(restarted);
            var restartedAfter = signalled.Elapsed;

            // nginx takes the instance back once its fail_timeout has passed; then it serves for a while under the load.
            var restartedAddress = new Uri($"http://127.0.0.1:{ports[0].ToString(CultureInfo.InvariantCulture)}/");
            var served = await Poll.UntilAsync(() => AggregatesAnsweredAsync(restartedAddress), n => n > 0 || loadClock.Elapsed > MaxLoadFor - TimeSpan.FromSeconds(3),
                "the restarted gateway answering through nginx", MaxLoadFor);
            var servingAfter = signalled.Elapsed;
            await Task.Delay(TimeSpan.FromSeconds(2));
            load.Stop();
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(30));
            served = await AggregatesAnsweredAsync(restartedAddress);
            var nginxLog = nginx.ToString();
            var refused = nginxLog.Split('\n').Count(l => l.Contains("Connection refused", StringComparison.Ordinal));
            var closed = nginxLog.Split('\n').Count(l => l.Contains("upstream", StringComparison.Ordinal) && !l.Contains("Connection refused", StringComparison.Ordinal));

            var figures = $"{load.Sent} requests in {loadClock.Elapsed.TotalSeconds:F1} s ({load.Summary}); {duringStop} sent between the SIGTERM and the exit "
                + $"({stoppedAfter.TotalMilliseconds:F0} ms, exit code {exitCode}); restarted and listening {restartedAfter.TotalMilliseconds:F0} ms after the signal; "
                + $"nginx took it back {servingAfter.TotalMilliseconds:F0} ms after the signal and it answered {served} aggregates; "
                + $"nginx's error log: {refused} connections refused, {closed} other upstream errors (each retried on the other instance)";
            output.WriteLine(figures);
            Assert.True(load.Failures.IsEmpty, $"{load.Failures.Count} requests lost: {string.Join(" | ", load.Failures.Take(10))}; {figures}; stopped gateway: {first}");
            Assert.Equal(0, exitCode);
            Assert.True(stoppedAfter < TimeSpan.FromSeconds(10), $"the gateway took {stoppedAfter} to stop: the drain waited on something other than the requests in flight");
            Assert.True(duringStop > 0, figures);
            Assert.True(served > 0, $"the restarted gateway answered no aggregate through nginx; {figures}");
        }
        finally
        {
            await first.DisposeAsync();
            if (restarted is not null)
            {
                await restarted.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Client loops through nginx; every answer that is not a 200 (or no answer), or that has a source <c>cancelled</c>
    /// (cut by the shutdown), is a lost request.
    /// </summary>
    private sealed class Load
    {
        public static readonly string[] Paths = [Aggregate, "api/dashboard/7", "proxy/users/7"];
        private readonly ConcurrentDictionary<string, int> _byPath = new();
        private int _sent;
        private volatile bool _stopped;

        public ConcurrentQueue<string> Failures { get; } = new();

        public int Sent => Volatile.Read(ref _sent);

        public string Summary => string.Join(", ", _byPath.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Value} to /{p.Key}"));

        public void Stop() => _stopped = true;

        public async Task RunAsync(Uri lb, int loop, Stopwatch clock)
        {
            using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = lb, Timeout = TimeSpan.FromSeconds(20) };
            for (var i = 0; i < MaxRequestsPerLoop && clock.Elapsed < MaxLoadFor && !_stopped; i++)
            {
                var path = Paths[(i + loop) % Paths.Length];
                Interlocked.Increment(ref _sent);
                _byPath.AddOrUpdate(path, 1, (_, n) => n + 1);
                try
                {
                    using var answer = await client.GetAsync(new Uri(path, UriKind.Relative));
                    var body = await answer.Content.ReadAsStringAsync();
                    // A 200 may still carry an optional source cut by the shutdown: that is data lost to it too.
                    if (answer.StatusCode != HttpStatusCode.OK || body.Contains("\"kind\":\"cancelled\"", StringComparison.Ordinal))
                    {
                        Failures.Enqueue($"{clock.Elapsed.TotalSeconds:F2}s /{path}: {(int)answer.StatusCode} {body[..Math.Min(body.Length, 300)]}");
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    Failures.Enqueue($"{clock.Elapsed.TotalSeconds:F2}s /{path}: {ex.GetType().Name} {ex.Message}");
                }
            }
        }
    }
}
