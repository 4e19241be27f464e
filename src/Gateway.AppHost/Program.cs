// The gateway with its dependencies and the Aspire dashboard, for a developer's machine:
//
//     dotnet run --project src/Gateway.AppHost
//
// then the dashboard at http://127.0.0.1:18888 (traces, metrics, structured logs, console output of each process) and
// the gateway at http://127.0.0.1:5080 as with `dotnet run --project src/Gateway`. Three resources, all processes of
// this machine (no container engine):
//   redis             redis-server on 127.0.0.1 (no persistence), which the gateway shares its cached data through;
//   demo-downstreams  the demo services (the gateway's own build with Demo:Enabled, answering under /demo/), a process
//                     of their own so that the gateway calls them over the network as it would real services;
//   gateway           the gateway on the repository's appsettings.json, its demo clusters pointed at demo-downstreams,
//                     every trace recorded (Gateway:Telemetry:SamplingRatio 1) and sent to the dashboard over OTLP.
// Ports are settings of this app host (AppHost:GatewayPort, AppHost:DemoPort, AppHost:RedisPort on its command line or
// in its configuration), fixed so that the addresses in the README stay true.
using System.Globalization;
using Microsoft.Extensions.Configuration;

var builder = DistributedApplication.CreateBuilder(args);

var repository = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", ".."));
var configFile = Path.Combine(repository, "appsettings.json");
var gatewayPort = builder.Configuration.GetValue("AppHost:GatewayPort", 5080);
var demoPort = builder.Configuration.GetValue("AppHost:DemoPort", 5090);
var redisPort = builder.Configuration.GetValue("AppHost:RedisPort", 6390);

// Plain strings: an interpolated string would be taken for one of Aspire's reference expressions.
var demoUrl = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{demoPort}");
var gatewayUrl = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{gatewayPort}");
var redisAddress = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{redisPort}");

var redis = builder.AddExecutable("redis", "redis-server", repository,
        "--bind", "127.0.0.1", "--port", redisPort.ToString(CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no");

var demo = builder.AddProject<Projects.Gateway>("demo-downstreams", launchProfileName: null)
    .WithArgs("--config", configFile)
    .WithEnvironment("Demo__Enabled", "true")
    .WithEnvironment("Urls", demoUrl)
    .WithHttpEndpoint(port: demoPort, isProxied: false);

var gateway = builder.AddProject<Projects.Gateway>("gateway", launchProfileName: null)
    .WithArgs("--config", configFile)
    .WithEnvironment("Demo__Enabled", "false")
    .WithEnvironment("Urls", gatewayUrl)
    .WithEnvironment("Gateway__Cache__Redis", redisAddress)
    .WithEnvironment("Gateway__Telemetry__SamplingRatio", "1")
    .WithHttpEndpoint(port: gatewayPort, isProxied: false)
    .WithHttpHealthCheck("/health/ready")
    .WaitFor(redis)
    .WaitFor(demo);

// The repository's demo clusters name the demo services at the gateway's own address; here they are a process apart.
foreach (var cluster in new[] { "users", "orders", "recommendations", "catalog" })
{
    gateway.WithEnvironment("ReverseProxy__Clusters__" + cluster + "__Destinations__demo__Address", demoUrl + "/demo/");
}

await builder.Build().RunAsync().ConfigureAwait(false);
