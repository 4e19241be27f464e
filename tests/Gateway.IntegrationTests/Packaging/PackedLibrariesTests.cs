using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.IntegrationTests.Deploy;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gateway.IntegrationTests.Packaging;

/// <summary>
/// The libraries as a team gets them: packed with <c>dotnet pack</c> into a folder feed, referenced by an app written
/// outside the solution (its own folder, no project reference, no build files of ours), which maps one configured and
/// one code-first aggregate beside an endpoint of its own, on a cluster it defines in code (YARP's
/// <c>LoadFromMemory</c>, no <c>ReverseProxy</c> section), and serves envelopes from both.
/// </summary>
public sealed class PackedLibrariesTests
{
    private const string ProfileJson = """{"id":"7","name":"Ada"}""";
    private const string OrdersJson = """[{"id":1}]""";

    private static readonly TimeSpan StepLimit = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Pack_AppOutsideTheSolutionReferencesThePackages_ServesAConfiguredAndACodeFirstAggregateBesideItsOwnEndpoint()
    {
        var work = Directory.CreateTempSubdirectory("gateway-pack-");
        try
        {
            // A version of its own: the machine's package cache never serves an earlier run's build.
            var version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
            var feed = Path.Combine(work.FullName, "feed");
            foreach (var library in new[] { "src/Gateway.Aggregation/Gateway.Aggregation.csproj", "src/Gateway.OpenApi/Gateway.OpenApi.csproj", "src/Gateway.Caching.Redis/Gateway.Caching.Redis.csproj" })
            {
                await RunAsync(Repository.Root, "pack", Repository.PathOf(library), "-c", "Release", "-o", feed, $"-p:Version={version}");
            }

            Assert.True(File.Exists(Path.Combine(feed, $"Gateway.Aggregation.{version}.nupkg")), "no Gateway.Aggregation package in " + feed);
            var app = Path.Combine(work.FullName, "app");
            WriteSample(app, feed, version);
            await RunAsync(app, "build", "-c", "Release");

            await using var downstream = await TestDownstream.StartAsync((web, d) =>
            {
                web.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, ProfileJson));
                web.MapGet("/orders", (HttpContext c) => TestDownstream.WriteJsonAsync(c, OrdersJson));
            });
            var port = Ports.Closed();
            using var process = Start(Path.Combine(app, "bin", "Release", "net10.0", "Sample.dll"), app, $"--urls=http://127.0.0.1:{port}", $"--UsersAddress={downstream.BaseAddress}");
            try
            {
                using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };
                var own = await Poll.UntilAsync(() => TryGetAsync(client, "hello"), r => r is not null, "the sample app to answer", TimeSpan.FromMinutes(1));
                Assert.Contains("from the app itself", own, StringComparison.Ordinal);

                using var configured = JsonDocument.Parse(await GetEnvelopeAsync(client, "profiles/7"));
                Assert.Equal(ProfileJson, configured.RootElement.GetProperty("data").GetProperty("user").GetRawText());
                using var codeFirst = JsonDocument.Parse(await GetEnvelopeAsync(client, "cards/7"));
                Assert.Equal(ProfileJson, codeFirst.RootElement.GetProperty("data").GetProperty("user").GetRawText());
                Assert.Equal(OrdersJson, codeFirst.RootElement.GetProperty("data").GetProperty("orders").GetRawText());
                Assert.Empty(codeFirst.RootElement.GetProperty("errors").EnumerateArray());

                // The OpenAPI package describes both.
                var document = await client.GetStringAsync("openapi/v1.json");
                Assert.Contains("/profiles/{id}", document, StringComparison.Ordinal);
                Assert.Contains("/cards/{id}", document, StringComparison.Ordinal);
            }
            finally
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task<string> GetEnvelopeAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        Assert.Equal("true", response.Headers.GetValues("X-Aggregate-Complete").Single());
        return body;
    }

    private static async Task<string?> TryGetAsync(HttpClient client, string path)
    {
        try
        {
            return await client.GetStringAsync(path);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>The app a team would write, as the docs show it.</summary>
    private static void WriteSample(string folder, string feed, string version)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(folder, "Sample.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Gateway.Aggregation" Version="{version}" />
                <PackageReference Include="Gateway.OpenApi" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "appsettings.json"), """
            {
              "Logging": { "LogLevel": { "Default": "Warning" } },
              "Gateway": {
                "Aggregates": {
                  "profile": {
                    "Route": "/profiles/{id}",
                    "Sources": { "user": { "Cluster": "users", "Path": "/users/{id}", "Required": true } }
                  }
                }
              }
            }
            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), """
            using Yarp.ReverseProxy.Configuration;

            var builder = WebApplication.CreateBuilder(args);

            // A cluster defined in code: the aggregates find it in YARP's state, with no ReverseProxy section.
            builder.Services.AddReverseProxy().LoadFromMemory([], [new ClusterConfig
            {
                ClusterId = "users",
                Destinations = new Dictionary<string, DestinationConfig> { ["one"] = new() { Address = builder.Configuration["UsersAddress"]! } },
            }]);
            builder.Services.AddGateway(builder.Configuration.GetSection("Gateway")).AddOpenApi();

            var app = builder.Build();
            app.MapGet("/hello", () => Results.Json(new { hello = "from the app itself" }));
            app.MapReverseProxy();   // YARP loads its clusters when its endpoints are mapped (no routes here)
            app.MapGateway();
            app.MapAggregate("card", "/cards/{id}", card => card
                .AddSource("user", "users", "/users/{id}", required: true)
                .AddSource("orders", "users", "/orders?user={id}"));
            app.MapGatewayOpenApi();
            app.Run();
            """);
    }

    private static async Task RunAsync(string folder, params string[] arguments)
    {
        using var process = Start(null, folder, arguments);
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync().WaitAsync(StepLimit);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        lock (output)
        {
            Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} exited {process.ExitCode}:\n{output}");
        }
    }

    /// <summary>dotnet with <paramref name="arguments"/> (after <paramref name="dll"/>, when one is run) in <paramref name="folder"/>.</summary>
    private static Process Start(string? dll, string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (dll is not null)
        {
            start.ArgumentList.Add(dll);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The test run's own MSBuild settings must not reach the builds it starts.
        foreach (var inherited in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "ASPNETCORE_URLS", "ASPNETCORE_ENVIRONMENT" })
        {
            start.Environment.Remove(inherited);
        }

        return Process.Start(start)!;
    }
}
