using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.Configuration;
using Gateway.Health;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests.Deploy;

/// <summary>
/// The compose stack's load balancing run for real, without Docker: its <c>nginx.conf</c> (Debian's nginx) in front of
/// two gateway processes on the configuration compose mounts (their Redis a real <c>redis-server</c>), each found by
/// the address nginx names, rewritten to 127.0.0.1 and a free port. (That compose mounts these very files and that
/// nginx names exactly the two gateway services is <see cref="ManifestTests"/>'s business.) The collector and Jaeger
/// are not run: neither is packaged for Debian, and no Docker engine runs on the build machines.
/// </summary>
public sealed partial class ComposeStackTests
{
    private const string NginxConf = "deploy/compose/nginx.conf";
    private const string GatewayJson = "deploy/compose/gateway.json";
    private const string Aggregate = "api/users/42";

    [Fact]
    public async Task ComposeNginx_TwoGateways_BothServeAndOneStoppingLosesNoRequest()
    {
        await using var redis = await RedisServer.StartAsync();
        var config = JsonNode.Parse(Repository.Read(GatewayJson))!;
        config["Gateway"]!["Cache"]!["Redis"] = redis.ConnectionString;
        var configFile = Path.Combine(Directory.CreateTempSubdirectory("gateway-compose-").FullName, "gateway.json");
        await File.WriteAllTextAsync(configFile, config.ToJsonString());
        var environment = new Dictionary<string, string?> { [GatewayConfigurationExtensions.ConfigVariable] = configFile };

        await using var first = GatewayProcess.Start(["--urls", "http://127.0.0.1:0"], environment);
        await using var second = GatewayProcess.Start(["--urls", "http://127.0.0.1:0"], environment);
        var addresses = new[] { await ListeningAsync(first), await ListeningAsync(second) };

        // nginx's upstream servers (gateway-1:8080, gateway-2:8080 in the file) become the two processes, in order.
        var servers = 0;
        var nginxConf = UpstreamServer().Replace(Repository.Read(NginxConf), m =>
            $"{m.Groups[1].Value}127.0.0.1:{addresses[servers++].Port.ToString(CultureInfo.InvariantCulture)}");
        Assert.Equal(2, servers);
        var port = Ports.Closed();
        nginxConf = Listen().Replace(nginxConf, $"${{1}}127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)};");
        await using var nginx = NginxServer.Start(nginxConf);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/") };
        await Poll.UntilAsync(async () => !nginx.HasExited && await AnswersAsync(client, HealthExtensions.LivePath.TrimStart('/')),
            ok => ok || nginx.HasExited, "nginx answering through the gateways");
        Assert.False(nginx.HasExited, $"nginx stopped: {nginx}");

        for (var i = 0; i < 20; i++)
        {
            using var answer = await client.GetAsync(new Uri(Aggregate, UriKind.Relative));
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"request {i} through nginx: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
        }

        // Round robin: each instance answered some of them (its own gateway.aggregate.duration, on its /metrics).
        foreach (var address in addresses)
        {
            Assert.True(await AggregatesAnsweredAsync(address) > 0, $"the gateway on {address} answered none of the aggregates sent through nginx");
        }

        // One instance goes (a crash, a node drained): nginx takes the failed connection to the other; no client sees it.
        await first.DisposeAsync();
        for (var i = 0; i < 20; i++)
        {
            using var answer = await client.GetAsync(new Uri(Aggregate, UriKind.Relative));
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"request {i} after one gateway stopped: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
        }
    }

    private static async Task<Uri> ListeningAsync(GatewayProcess gateway)
    {
        var listening = gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(30));
        await Poll.UntilAsync(() => listening.IsCompleted || gateway.HasExited, "the gateway listening or exiting", TimeSpan.FromSeconds(30));
        Assert.False(gateway.HasExited, $"the gateway refused the compose configuration: {gateway}");
        return await listening;
    }

    private static async Task<bool> AnswersAsync(HttpClient client, string path)
    {
        try
        {
            using var answer = await client.GetAsync(new Uri(path, UriKind.Relative));
            return answer.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>The sum of the <c>gateway.aggregate.duration</c> counts on a gateway's Prometheus endpoint (gateway.json turns it on).</summary>
    private static async Task<long> AggregatesAnsweredAsync(Uri gateway)
    {
        using var client = new HttpClient { BaseAddress = gateway };
        var text = await client.GetStringAsync(new Uri("metrics", UriKind.Relative));
        return AggregateCount().Matches(text).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"^(\s*server\s+)[\w.-]+:\d+", RegexOptions.Multiline)]
    private static partial Regex UpstreamServer();

    [GeneratedRegex(@"^(\s*listen\s+)\d+;", RegexOptions.Multiline)]
    private static partial Regex Listen();

    [GeneratedRegex(@"^gateway_aggregate_duration_milliseconds_count\{[^}]*\}\s+(\d+)", RegexOptions.Multiline)]
    private static partial Regex AggregateCount();
}
