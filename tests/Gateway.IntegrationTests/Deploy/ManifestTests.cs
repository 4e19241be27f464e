using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.Configuration;
using Gateway.Health;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests.Deploy;

/// <summary>
/// deploy/: the Kubernetes manifests (kustomization), the compose stack and the configuration they mount, parsed
/// and checked against the code and the Dockerfile: ports, probe paths, the configuration's path and keys (the
/// gateway itself validates the file), image names, and the names the services find each other by.
/// </summary>
public sealed partial class ManifestTests
{
    private const string K8s = "deploy/k8s";
    private const string Compose = "deploy/docker-compose.yml";
    private static readonly Dockerfile Image = Dockerfile.Parse(Repository.Read("Dockerfile"));
    private static readonly string ImagePort = Image.Single("EXPOSE").Arguments;
    private static readonly string ImageConfigPath = Image.Environment()[GatewayConfigurationExtensions.ConfigVariable];

    [Fact]
    public void Kustomization_ListsEveryManifestAndGeneratesTheConfigMapFromAFileThatExists()
    {
        var kustomization = Yaml.Document($"{K8s}/kustomization.yaml");
        var resources = kustomization["resources"]!.AsArray().Select(r => r.Text("resource")).Order().ToList();
        var files = Directory.GetFiles(Repository.PathOf(K8s), "*.yaml").Select(f => Path.GetFileName(f)).Where(f => f != "kustomization.yaml").Order().ToList();

        Assert.Equal(files, resources);
        var generator = Assert.Single(kustomization["configMapGenerator"]!.AsArray())!;
        Assert.Equal("gateway-config", generator["name"].Text("configMapGenerator name"));
        var file = Assert.Single(generator["files"]!.AsArray()).Text("configMapGenerator file");
        Assert.True(File.Exists(Repository.PathOf($"{K8s}/{file}")), $"{file} does not exist");
    }

    [Fact]
    public void Deployment_ThreeReplicasOfTheImage_ProbesPortAndConfigurationAgreeWithTheCode()
    {
        var deployment = Manifest("Deployment", "gateway");
        var pod = deployment["spec"]!["template"]!["spec"]!;
        var container = Assert.Single(pod["containers"]!.AsArray())!;

        Assert.Equal("3", deployment["spec"]!["replicas"].Text("replicas"));
        Assert.Equal(ComposeImage("gateway-1"), container["image"].Text("image"));
        var port = Assert.Single(container["ports"]!.AsArray())!;
        Assert.Equal(ImagePort, port["containerPort"].Text("containerPort"));
        var portName = port["name"].Text("port name");

        Assert.Equal(HealthExtensions.ReadyPath, container["readinessProbe"]!["httpGet"]!["path"].Text("readiness path"));
        Assert.Equal(HealthExtensions.LivePath, container["livenessProbe"]!["httpGet"]!["path"].Text("liveness path"));
        Assert.Equal(portName, container["readinessProbe"]!["httpGet"]!["port"].Text("readiness port"));
        Assert.Equal(portName, container["livenessProbe"]!["httpGet"]!["port"].Text("liveness port"));

        foreach (var kind in new[] { "requests", "limits" })
        {
            Assert.NotNull(container["resources"]![kind]!["cpu"]);
            Assert.NotNull(container["resources"]![kind]!["memory"]);
        }

        Assert.Equal("true", pod["securityContext"]!["runAsNonRoot"].Text("runAsNonRoot"));
        Assert.Equal("false", container["securityContext"]!["allowPrivilegeEscalation"].Text("allowPrivilegeEscalation"));

        // GATEWAY_CONFIG names the file the ConfigMap (generated from the kustomization's file) puts in its mount.
        var configPath = Environment(container)[GatewayConfigurationExtensions.ConfigVariable];
        Assert.Equal(ImageConfigPath, configPath);
        var volume = pod["volumes"]!.AsArray().Single(v => v!["configMap"]?["name"]?.GetValue<string>() == "gateway-config")!;
        var mount = container["volumeMounts"]!.AsArray().Single(m => m!["name"].Text("mount name") == volume["name"].Text("volume name"))!;
        var file = Yaml.Document($"{K8s}/kustomization.yaml")["configMapGenerator"]![0]!["files"]![0].Text("file");
        Assert.Equal(configPath, $"{mount["mountPath"].Text("mountPath")}/{file}");
    }

    [Fact]
    public void ServiceAutoscalerAndDisruptionBudget_PointAtTheDeployment()
    {
        var deployment = Manifest("Deployment", "gateway");
        var labels = deployment["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        var portName = deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]![0]!["name"].Text("port name");

        var service = Manifest("Service", "gateway");
        Assert.True(Selects(service["spec"]!["selector"]!.AsObject(), labels), "the Service selects no gateway pod");
        Assert.Equal(portName, Assert.Single(service["spec"]!["ports"]!.AsArray())!["targetPort"].Text("targetPort"));

        var autoscaler = Manifest("HorizontalPodAutoscaler", "gateway");
        Assert.Equal("Deployment", autoscaler["spec"]!["scaleTargetRef"]!["kind"].Text("kind"));
        Assert.Equal("gateway", autoscaler["spec"]!["scaleTargetRef"]!["name"].Text("name"));
        Assert.True(int.Parse(autoscaler["spec"]!["minReplicas"].Text("minReplicas"), System.Globalization.CultureInfo.InvariantCulture) >= 3);

        var budget = Manifest("PodDisruptionBudget", "gateway");
        Assert.True(Selects(budget["spec"]!["selector"]!["matchLabels"]!.AsObject(), labels), "the PodDisruptionBudget selects no gateway pod");
    }

    [Fact]
    public void Redis_ServiceAndImage_AreWhatTheConfigurationAndComposeName()
    {
        var redis = RedisEndpoint();
        var service = Manifest("Service", redis.Host);
        Assert.Equal(redis.Port, Assert.Single(service["spec"]!["ports"]!.AsArray())!["port"].Text("port"));
        var deployment = Manifest("Deployment", redis.Host);
        Assert.True(Selects(service["spec"]!["selector"]!.AsObject(), deployment["spec"]!["template"]!["metadata"]!["labels"]!.AsObject()));

        var services = Yaml.Document(Compose)["services"]!;
        Assert.NotNull(services[redis.Host]);
        Assert.Equal(services[redis.Host]!["image"].Text("compose redis image"), deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["image"].Text("redis image"));
    }

    [Fact]
    public void Compose_TwoGatewaysBehindNginx_BuiltFromTheDockerfileWithTheMountedConfigurationAndTheCollector()
    {
        var services = Yaml.Document(Compose)["services"]!.AsObject();
        var gateways = services.Where(s => s.Value!["build"] is not null).Select(s => s.Key).Order().ToList();
        Assert.Equal(["gateway-1", "gateway-2"], gateways);

        foreach (var name in gateways)
        {
            var gateway = services[name]!;
            var context = Path.GetFullPath(Path.Combine(Repository.PathOf("deploy"), gateway["build"]!["context"].Text("context")));
            Assert.Equal(Repository.Root.TrimEnd('/'), context.TrimEnd('/'));
            Assert.Equal("Dockerfile", gateway["build"]!["dockerfile"].Text("dockerfile"));
            Assert.Equal(Manifest("Deployment", "gateway")["spec"]!["template"]!["spec"]!["containers"]![0]!["image"].Text("image"), gateway["image"].Text("image"));

            var environment = Environment(gateway);
            Assert.Equal(ImageConfigPath, environment[GatewayConfigurationExtensions.ConfigVariable]);
            var mounted = gateway["volumes"]!.AsArray().Select(v => v.Text("volume").Split(':')).Single(v => v[1] == ImageConfigPath);
            Assert.Equal(Path.GetFullPath(Repository.PathOf("deploy/compose/gateway.json")), Path.GetFullPath(Path.Combine(Repository.PathOf("deploy"), mounted[0])));

            // The collector's OTLP gRPC receiver, by its compose name and port.
            var otlp = new Uri(environment["OTEL_EXPORTER_OTLP_ENDPOINT"]);
            Assert.NotNull(services[otlp.Host]);
            var collectorConfig = MountedFile(services[otlp.Host]!, "/etc/otelcol/config.yaml");
            var receiver = Yaml.Document(collectorConfig)["receivers"]!["otlp"]!["protocols"]!["grpc"]!["endpoint"].Text("grpc endpoint");
            Assert.EndsWith($":{otlp.Port}", receiver, StringComparison.Ordinal);
        }

        // nginx balances over exactly those two, on the image's port, and waits for their health.
        var lb = services["lb"]!;
        var nginx = Repository.Read(MountedFile(lb, "/etc/nginx/nginx.conf"));
        var upstreams = UpstreamServer().Matches(nginx).Select(m => m.Groups[1].Value + ":" + m.Groups[2].Value).Order().ToList();
        Assert.Equal(gateways.Select(g => $"{g}:{ImagePort}"), upstreams);
        Assert.Equal(gateways, lb["depends_on"]!.AsObject().Select(d => d.Key).Order());
        Assert.All(gateways, g => Assert.Equal("service_healthy", lb["depends_on"]![g]!["condition"].Text("condition")));
    }

    [Fact]
    public void Collector_SendsTracesToTheJaegerService()
    {
        var services = Yaml.Document(Compose)["services"]!.AsObject();
        var collector = Yaml.Document(MountedFile(services["otel-collector"]!, "/etc/otelcol/config.yaml"));

        var exporters = collector["service"]!["pipelines"]!["traces"]!["exporters"]!.AsArray().Select(e => e.Text("exporter")).ToList();
        var jaeger = exporters.Select(e => collector["exporters"]![e]!["endpoint"]?.GetValue<string>()).OfType<string>().Single();
        Assert.Equal("jaeger", jaeger.Split(':')[0]);
        Assert.StartsWith("jaegertracing/", services["jaeger"]!["image"].Text("jaeger image"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configuration_MountedByCompose_IsAcceptedByTheGatewayAndServesTheDemo()
    {
        // The gateway's own start-up validation: an unknown or misspelt key, a bad duration, an unknown cluster
        // all stop it with exit code 2 before it listens. Redis (gateway-redis) is not reachable here; start-up
        // and requests never wait for it.
        var file = MountedFile(Yaml.Document(Compose)["services"]!["gateway-1"]!, ImageConfigPath);
        await using var gateway = await StartListeningAsync(Repository.PathOf(file));

        using var client = new HttpClient { BaseAddress = gateway.Address };
        using var answer = await Poll.UntilAsync(() => client.GetAsync(new Uri("api/users/42", UriKind.Relative)), r => r.StatusCode == HttpStatusCode.OK, "the demo aggregate answering 200");
        using var ready = await Poll.UntilAsync(() => client.GetAsync(new Uri(HealthExtensions.ReadyPath.TrimStart('/'), UriKind.Relative)), r => r.StatusCode == HttpStatusCode.OK, "ready", TimeSpan.FromSeconds(20));
        Assert.Contains("Gateway configuration read from", gateway.Process.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configuration_MountedByKubernetes_IsAcceptedWithTheDemoOff()
    {
        // Production-shaped: no demo (it would be public and exempt from the limits); the clusters name Kubernetes
        // services, here replaced by a loopback port that refuses, so that nothing is looked up outside the machine.
        var config = JsonNode.Parse(Repository.Read($"{K8s}/gateway.json"))!;
        Assert.False(config["Demo"]?["Enabled"]?.GetValue<bool>() ?? false, "deploy/k8s/gateway.json enables the demo");
        foreach (var cluster in config["ReverseProxy"]!["Clusters"]!.AsObject())
        {
            Assert.Null(cluster.Value!["Metadata"]?["DemoSelf"]);
            foreach (var destination in cluster.Value!["Destinations"]!.AsObject())
            {
                Assert.DoesNotContain("127.0.0.1", destination.Value!["Address"].Text("Address"), StringComparison.Ordinal);
                destination.Value!["Address"] = "http://127.0.0.1:1/";
            }
        }

        var path = Path.Combine(Directory.CreateTempSubdirectory("gateway-k8s-").FullName, "gateway.json");
        await File.WriteAllTextAsync(path, config.ToJsonString());
        await using var gateway = await StartListeningAsync(path);

        using var client = new HttpClient { BaseAddress = gateway.Address };
        using var live = await client.GetAsync(new Uri(HealthExtensions.LivePath.TrimStart('/'), UriKind.Relative));
        using var demo = await client.GetAsync(new Uri("demo/users/42", UriKind.Relative));
        using var aggregate = await client.GetAsync(new Uri("api/users/42", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, demo.StatusCode);
        // Its required source's downstream refuses: an honest answer, not the demo's.
        Assert.Equal(HttpStatusCode.BadGateway, aggregate.StatusCode);
    }

    private static async Task<ListeningGateway> StartListeningAsync(string configPath)
    {
        var gateway = GatewayProcess.Start(["--config", configPath, "--urls", "http://127.0.0.1:0"]);
        try
        {
            var listening = gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(30));
            await Poll.UntilAsync(() => listening.IsCompleted || gateway.HasExited, "the gateway listening or exiting", TimeSpan.FromSeconds(30));
            Assert.False(gateway.HasExited, $"the gateway refused the configuration: {gateway}");
            return new ListeningGateway(gateway, await listening);
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    private sealed record ListeningGateway(GatewayProcess Process, Uri Address) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Process.DisposeAsync();
    }

    [Fact]
    public void Environment_OfEveryGatewayContainer_NamesOnlyVariablesTheGatewayOrOpenTelemetryReads()
    {
        var containers = new List<JsonNode>
        {
            Manifest("Deployment", "gateway")["spec"]!["template"]!["spec"]!["containers"]![0]!,
        };
        var services = Yaml.Document(Compose)["services"]!.AsObject();
        containers.AddRange(services.Where(s => s.Value!["build"] is not null).Select(s => s.Value!));

        foreach (var name in containers.SelectMany(c => Environment(c).Keys))
        {
            Assert.True(name == GatewayConfigurationExtensions.ConfigVariable || name.StartsWith("OTEL_", StringComparison.Ordinal), $"unknown variable {name}");
        }
    }

    private static JsonObject Manifest(string kind, string name)
    {
        var all = Directory.GetFiles(Repository.PathOf(K8s), "*.yaml")
            .Where(f => Path.GetFileName(f) != "kustomization.yaml")
            .SelectMany(f => Yaml.Documents(Path.GetRelativePath(Repository.Root, f)))
            .ToList();
        Assert.All(all, d => Assert.NotNull(d["apiVersion"]));
        return Assert.Single(all, d => d["kind"].Text("kind") == kind && d["metadata"]!["name"].Text("name") == name);
    }

    private static string ComposeImage(string service) => Yaml.Document(Compose)["services"]![service]!["image"].Text("image");

    /// <summary>Environment of a Kubernetes container (a list of name/value) or a compose service (a map).</summary>
    private static Dictionary<string, string> Environment(JsonNode container) =>
        container["env"] is JsonArray list
            ? list.ToDictionary(e => e!["name"].Text("env name"), e => e!["value"].Text("env value"))
            : container["environment"]!.AsObject().ToDictionary(e => e.Key, e => e.Value.Text(e.Key));

    private static bool Selects(JsonObject selector, JsonObject labels) =>
        selector.Count > 0 && selector.All(s => labels[s.Key]?.GetValue<string>() == s.Value.Text(s.Key));

    /// <summary>The repository path of the file a compose service mounts at <paramref name="target"/>; it must exist.</summary>
    private static string MountedFile(JsonNode service, string target)
    {
        var volume = service["volumes"]!.AsArray().Select(v => v.Text("volume").Split(':')).Single(v => v[1] == target);
        var path = Path.GetRelativePath(Repository.Root, Path.GetFullPath(Path.Combine(Repository.PathOf("deploy"), volume[0])));
        Assert.True(File.Exists(Repository.PathOf(path)), $"{volume[0]} (mounted at {target}) does not exist");
        return path;
    }

    private static (string Host, string Port) RedisEndpoint()
    {
        var config = JsonNode.Parse(Repository.Read($"{K8s}/gateway.json"))!;
        var connection = config["Gateway"]!["Cache"]!["Redis"].Text("Gateway:Cache:Redis");
        var endpoint = connection.Split(',')[0].Split(':');
        return (endpoint[0], endpoint[1]);
    }

    [GeneratedRegex(@"^\s*server\s+([\w.-]+):(\d+)", RegexOptions.Multiline)]
    private static partial Regex UpstreamServer();
}
