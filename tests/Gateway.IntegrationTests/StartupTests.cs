using System.Net;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests;

/// <summary>
/// Start-up: the built gateway, run as its own process, refuses a bad configuration file with a message
/// naming the offending key and a non-zero exit code; GATEWAY_CONFIG / --config choose the file.
/// </summary>
public sealed class StartupTests : IDisposable
{
    private static readonly Uri Nowhere = new("http://127.0.0.1:9/");
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-startup-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Start_SourceNamesUnknownCluster_ExitsNonZeroNamingTheKey()
    {
        var config = ValidConfig();
        config.Gateway["Aggregates"]!["agg"]!["Sources"]!["profile"]!["Cluster"] = "nosuchcluster";

        var run = await RunWithConfigFileAsync(config);

        AssertRefused(run, "Gateway:Aggregates:agg:Sources:profile:Cluster");
        Assert.Contains("nosuchcluster", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_SourcesDependOnEachOtherInACycle_ExitsNonZeroNamingTheAggregate()
    {
        var config = new GatewayConfig()
            .Cluster("users", Nowhere)
            .Aggregate("agg", "/agg/{id}", a => a
                .Source("profile", "users", "/users/{id}")
                .Source("first", "users", "/a/{second.id}")
                .Source("second", "users", "/b/{first.id}"));

        var run = await RunWithConfigFileAsync(config);

        AssertRefused(run, "Gateway:Aggregates:agg:Sources");
        Assert.Contains("cycle", run.StandardError, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("first", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("second", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_SourceReadsUnknownSource_ExitsNonZeroNamingTheKey()
    {
        var config = new GatewayConfig()
            .Cluster("users", Nowhere)
            .Aggregate("agg", "/agg/{id}", a => a.Source("customer", "users", "/customers/{ghost.customerId}"));

        var run = await RunWithConfigFileAsync(config);

        AssertRefused(run, "Gateway:Aggregates:agg:Sources:customer:Path");
        Assert.Contains("ghost", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_TimeoutIsNotATimeSpan_ExitsNonZeroNamingTheKey()
    {
        var config = ValidConfig();
        config.Gateway["Aggregates"]!["agg"]!["Timeout"] = "soon";

        var run = await RunWithConfigFileAsync(config);

        AssertRefused(run, "Gateway:Aggregates:agg:Timeout");
        Assert.Contains("soon", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MisspeltKey_ExitsNonZeroNamingTheKey()
    {
        var config = ValidConfig();
        var profile = config.Gateway["Aggregates"]!["agg"]!["Sources"]!["profile"]!.AsObject();
        profile.Remove("Required");
        profile["Requried"] = true;

        var run = await RunWithConfigFileAsync(config);

        AssertRefused(run, "Gateway:Aggregates:agg:Sources:profile:Requried");
        Assert.Contains("did you mean 'Required'?", run.StandardError, StringComparison.Ordinal);
    }

    // YARP's binder ignores keys it does not know: the cluster would run on the default policy, without destinations.
    [Fact]
    public async Task Start_UnknownKeysUnderReverseProxy_ExitsWith2NamingEachWithItsNearMiss()
    {
        var config = ValidConfig().Route("files", "users", "/files/{**rest}");
        var cluster = config.Root["ReverseProxy"]!["Clusters"]!["users"]!.AsObject();
        cluster["LoadBalancingPolcy"] = "RoundRobin";
        cluster["Destination"] = new JsonObject();
        config.Root["ReverseProxy"]!["Routes"]!["files"]!["Match"]!["Hedaers"] = new JsonArray();

        var run = await RunWithConfigFileAsync(config);

        Assert.Equal(2, run.ExitCode);
        AssertRefused(run, "ReverseProxy:Clusters:users:LoadBalancingPolcy: unknown setting 'LoadBalancingPolcy'; did you mean 'LoadBalancingPolicy'?");
        Assert.Contains("ReverseProxy:Clusters:users:Destination: unknown setting 'Destination'; did you mean 'Destinations'?", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("ReverseProxy:Routes:files:Match:Hedaers: unknown setting 'Hedaers'; did you mean 'Headers'?", run.StandardError, StringComparison.Ordinal);
    }

    // --check: validated as a start would, the summary printed, exit 0, and no server started.
    [Fact]
    public async Task Check_ValidFile_Exits0WithASummaryWithoutListening()
    {
        var path = Path.Combine(_folder, "valid.json");
        await File.WriteAllTextAsync(path, ValidConfig().Route("files", "users", "/files/{**rest}").ToJson());

        var run = await GatewayProcess.RunToExitAsync(["--check", "--config", path]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"{path} is valid. It would serve:", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("GET /agg/{id}  agg: profile (required)", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("/files/{**rest}  files -> users", run.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening", run.StandardOutput, StringComparison.Ordinal);
        Assert.Equal("", run.StandardError.Trim());
    }

    [Fact]
    public async Task Check_InvalidFile_Exits2NamingTheProblemsWithoutListening()
    {
        var config = ValidConfig().LoadBalancing("users", "RoundRobbin");
        var path = Path.Combine(_folder, "invalid.json");
        await File.WriteAllTextAsync(path, config.ToJson());

        var run = await GatewayProcess.RunToExitAsync(["--check", "--config", path]);

        Assert.Equal(2, run.ExitCode);
        AssertRefused(run, "ReverseProxy:Clusters:users: No matching ILoadBalancingPolicy");
        Assert.DoesNotContain("Now listening", run.StandardOutput, StringComparison.Ordinal);
    }

    // YARP validates policy names and the like when the routes are mapped, and would crash there with a stack trace.
    [Fact]
    public async Task Start_UnknownLoadBalancingPolicy_ExitsWith2NamingTheClusterAndTheNearMiss()
    {
        var config = ValidConfig().LoadBalancing("users", "RoundRobbin");

        var run = await RunWithConfigFileAsync(config);

        Assert.Equal(2, run.ExitCode);
        AssertRefused(run, "ReverseProxy:Clusters:users: No matching ILoadBalancingPolicy found for the load balancing policy 'RoundRobbin'");
        Assert.Contains("did you mean 'RoundRobin'?", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_BadKestrelLimits_ExitsWith2NamingEveryBadKeyWithTheRest()
    {
        var config = ValidConfig();
        config.Gateway["Aggregates"]!["agg"]!["Sources"]!["profile"]!["Cluster"] = "nosuchcluster";
        config.Root["Kestrel"] = new JsonObject
        {
            ["Limits"] = new JsonObject
            {
                ["MaxRequestHeaderCount"] = 0,
                ["KeepAliveTimeout"] = "30s",
                ["Http2"] = new JsonObject { ["MaxFrameSize"] = 1 },
                ["MinResponseDataRate"] = new JsonObject { ["BytesPerSecond"] = -1, ["GracePeriod"] = "00:00:05" },
            },
        };

        var run = await RunWithConfigFileAsync(config);

        Assert.Equal(2, run.ExitCode);
        AssertRefused(run, "Kestrel:Limits:MaxRequestHeaderCount");
        Assert.Contains("Kestrel:Limits:KeepAliveTimeout: '30s'", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("Kestrel:Limits:Http2:MaxFrameSize", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("Kestrel:Limits:MinResponseDataRate", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("Gateway:Aggregates:agg:Sources:profile:Cluster", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ConfigFileMissing_ExitsNonZeroNamingTheFile()
    {
        var missing = Path.Combine(_folder, "missing.json");

        var run = await GatewayProcess.RunToExitAsync(["--config", missing, "--urls", "http://127.0.0.1:0"]);

        AssertRefused(run, "missing.json");
    }

    // The shipped demo's clusters point at its own demo server from the start (its socket is bound before the app is
    // built): YARP loads its configuration once, one "Loading proxy data from config." line (it was five: a reload
    // once the demo listened, one change per configuration provider).
    [Fact]
    public async Task Start_Demo_YarpLoadsItsConfigurationOnce()
    {
        await using var gateway = GatewayProcess.Start(["--urls", "http://127.0.0.1:0"]);
        var address = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(30));
        using var http = new HttpClient { BaseAddress = address };
        // Answered through the demo clusters: their addresses have been applied by now.
        using var answer = await http.GetAsync(new Uri("/api/users/1", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.OK, answer.StatusCode);

        var loads = gateway.StandardOutput.Split('\n').Count(l => l.Contains("Loading proxy data from config.", StringComparison.Ordinal));
        Assert.Equal(1, loads);
    }

    [Fact]
    public async Task Start_ConfigFileIsNotJson_ExitsNonZeroNamingTheFile()
    {
        var path = Path.Combine(_folder, "broken.json");
        await File.WriteAllTextAsync(path, "{\n  \"Gateway\": {\n    \"Aggregates\": {}\n  ]\n}\n");

        var run = await GatewayProcess.RunToExitAsync(["--config", path, "--urls", "http://127.0.0.1:0"]);

        AssertRefused(run, "broken.json");
        // Counted as editors count, from 1: the ']' is on line 4, in column 3.
        Assert.Contains("is not valid JSON at line 4, column 3: ']' is invalid without a matching open", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_BadFileNamedByGatewayConfigVariable_ExitsNonZeroNamingTheKey()
    {
        var config = ValidConfig();
        config.Gateway["Aggregates"]!["agg"]!["Sources"]!["profile"]!["Cluster"] = "nosuchcluster";
        var path = await WriteAsync(config);

        var run = await GatewayProcess.RunToExitAsync(["--urls", "http://127.0.0.1:0"], new Dictionary<string, string?> { ["GATEWAY_CONFIG"] = path });

        AssertRefused(run, "Gateway:Aggregates:agg:Sources:profile:Cluster");
    }

    [Fact]
    public async Task Start_GatewayConfigVariableNamesMissingFile_ExitsNonZeroNamingIt()
    {
        var missing = Path.Combine(_folder, "absent.json");

        var run = await GatewayProcess.RunToExitAsync(["--urls", "http://127.0.0.1:0"], new Dictionary<string, string?> { ["GATEWAY_CONFIG"] = missing });

        AssertRefused(run, "absent.json");
        Assert.Contains("GATEWAY_CONFIG", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_DemoOnAnotherAddress_DemoClustersFollowTheAddressTheGatewayListensOn()
    {
        // The shipped appsettings.json names 127.0.0.1:5080 for the demo clusters; --urls moves the gateway.
        await using var gateway = GatewayProcess.Start(["--urls", "http://127.0.0.1:0"]);
        var address = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(30));
        using var client = new HttpClient { BaseAddress = address, Timeout = Signal.Patience };

        using var answer = await client.GetAsync(new Uri("/api/users/42", UriKind.Relative));
        var body = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.OK, body);
        Assert.Contains("\"complete\":true", body, StringComparison.Ordinal);
        using var proxied = await client.GetAsync(new Uri("/proxy/users/7", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
    }

    [Fact]
    public async Task Start_NeitherAggregatesNorRoutes_ExitsNamingTheFile()
    {
        var config = new GatewayConfig().Cluster("users", new Uri("http://127.0.0.1:1/"));
        var path = await WriteAsync(config);

        var gateway = await GatewayProcess.RunToExitAsync(["--config", path]);

        Assert.Equal(2, gateway.ExitCode);
        Assert.Contains("nothing to serve", gateway.StandardError, StringComparison.Ordinal);
        Assert.Contains(path, gateway.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_GoodFile_LogsWhichFileAndWhatItMapped()
    {
        var config = new GatewayConfig()
            .Cluster("users", new Uri("http://127.0.0.1:1/"))
            .Aggregate("agg", "/agg/{id}", a => a.Source("profile", "users", "/users/{id}", required: true));
        config.Root["Logging"]!["LogLevel"]!["Default"] = "Information";
        var path = await WriteAsync(config);

        await using var gateway = GatewayProcess.Start(["--config", path, "--urls", "http://127.0.0.1:0"]);
        await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(30));

        Assert.Contains($"Gateway configuration read from {path}: 1 clusters, 0 pass-through routes, 1 aggregates mapped", gateway.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_GoodFileNamedByGatewayConfigVariable_ServesItsAggregatesInPlaceOfTheDefaultSettings()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"id":"from-test"}""")));
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate("agg", "/agg/{id}", a => a.Source("profile", "users", "/users/{id}", required: true));
        // The lifetime log says where the process listens.
        config.Root["Logging"]!["LogLevel"]!["Microsoft.Hosting.Lifetime"] = "Information";
        var path = await WriteAsync(config);

        await using var gateway = GatewayProcess.Start(["--urls", "http://127.0.0.1:0"], new Dictionary<string, string?> { ["GATEWAY_CONFIG"] = path });
        var address = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(30));
        using var client = new HttpClient { BaseAddress = address, Timeout = Signal.Patience };

        using var answer = await client.GetAsync(new Uri("/agg/7", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("from-test", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("/users/7", downstream.Requests.Single().RawTarget);
        // The repository's appsettings.json (demo services under /demo) is not loaded on top.
        using var demo = await client.GetAsync(new Uri("/demo/users/1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, demo.StatusCode);
        Assert.False(gateway.HasExited, gateway.ToString());
    }

    [Fact]
    public void Build_HopByHopHeaderInPropagateHeaders_ThrowsNamingTheKey()
    {
        var config = ValidConfig().PropagateHeaders("X-Tenant", "Connection");
        var path = Path.Combine(_folder, "hop.json");
        File.WriteAllText(path, config.ToJson());

        var error = Assert.Throws<GatewayConfigurationException>(() => GatewayHost.Build(["--config", path, "--urls", "http://127.0.0.1:0"]));

        Assert.Contains("Gateway:PropagateHeaders:1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MapAggregate_CodeFirstSourceNamesUnknownCluster_ThrowsNamingIt()
    {
        var path = await WriteAsync(new GatewayConfig().Cluster("users", Nowhere));
        await using var app = GatewayHost.Build(["--config", path, "--urls", "http://127.0.0.1:0"]);

        var error = Assert.Throws<GatewayConfigurationException>(() =>
            app.MapAggregate("codeFirst", "/code/{id}", a => a.AddSource("profile", "nosuchcluster", "/users/{id}")));

        Assert.Contains("codeFirst", error.Message, StringComparison.Ordinal);
        Assert.Contains("profile:Cluster", error.Message, StringComparison.Ordinal);
    }

    private static GatewayConfig ValidConfig() =>
        new GatewayConfig()
            .Cluster("users", Nowhere)
            .Downstream("users", maxConcurrency: 1, maxQueue: 0, timeout: TimeSpan.FromSeconds(1))
            .PropagateHeaders("X-Tenant")
            .Aggregate("agg", "/agg/{id}", a => a.Source("profile", "users", "/users/{id}", required: true), timeout: TimeSpan.FromSeconds(2));

    private static void AssertRefused(GatewayProcess run, string named)
    {
        Assert.True(run.ExitCode != 0, $"the gateway exited with 0; {run}");
        Assert.Contains(named, run.StandardError, StringComparison.Ordinal);
        // An operator's mistake is reported, not a crash.
        Assert.DoesNotContain("Unhandled exception", run.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StandardError, StringComparison.Ordinal);
    }

    private async Task<GatewayProcess> RunWithConfigFileAsync(GatewayConfig config) =>
        await GatewayProcess.RunToExitAsync(["--config", await WriteAsync(config), "--urls", "http://127.0.0.1:0"]);

    private async Task<string> WriteAsync(GatewayConfig config)
    {
        var path = Path.Combine(_folder, $"{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, config.ToJson());
        return path;
    }
}
