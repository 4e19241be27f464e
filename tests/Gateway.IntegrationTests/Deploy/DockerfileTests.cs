using System.Diagnostics;
using System.Net;
using Gateway.Configuration;
using Gateway.Health;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests.Deploy;

/// <summary>
/// The root Dockerfile, checked without a Docker engine: its build is the one CI runs, what it copies exists
/// and is not ignored, its port and health path are the code's, and the built gateway started with the image's
/// environment (port moved to a free one) listens on all interfaces, serves the demo and passes its HEALTHCHECK.
/// </summary>
public sealed class DockerfileTests
{
    private static readonly Dockerfile File = Dockerfile.Parse(Repository.Read("Dockerfile"));

    [Theory]
    [InlineData("dotnet restore ")]
    [InlineData("dotnet publish ")]
    public void Dockerfile_BuildCommand_IsTheLineCiRuns(string command)
    {
        var run = Assert.Single(File.All("RUN"), r => r.Arguments.StartsWith(command, StringComparison.Ordinal));
        var ci = Repository.Read(".ci/run").Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith(command, StringComparison.Ordinal)).ToList();

        Assert.Equal([run.Arguments], ci);
    }

    [Fact]
    public void Dockerfile_CopiesFromTheContext_PathsThatExistAndAreNotIgnored()
    {
        var ignored = Repository.Read(".dockerignore").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        var copies = File.All("COPY").Select(c => c.CopyParts()).Where(c => c.From is null).ToList();
        Assert.NotEmpty(copies);

        foreach (var source in copies.SelectMany(c => c.Sources))
        {
            var path = Repository.PathOf(source.TrimEnd('/'));
            Assert.True(System.IO.File.Exists(path) || Directory.Exists(path), $"COPY {source}: no such path in the repository");
            Assert.DoesNotContain(ignored, pattern => Excludes(pattern, source.TrimEnd('/')));
        }

        // The build needs the configuration file the project links (src/Gateway/Gateway.csproj: ..\..\appsettings.json).
        Assert.Contains(copies, c => c.Sources.Contains("appsettings.json"));
    }

    [Fact]
    public void Dockerfile_RuntimeStage_CopiesThePublishOutputAndTheConfigurationGatewayConfigNames()
    {
        var publish = Assert.Single(File.All("RUN"), r => r.Arguments.StartsWith("dotnet publish ", StringComparison.Ordinal));
        var output = publish.Arguments.Split(' ').SkipWhile(w => w != "-o").Skip(1).First();
        var workdir = File.All("WORKDIR").First(w => w.Stage == publish.Stage).Arguments;
        var fromBuild = File.All("COPY").Select(c => c.CopyParts()).Where(c => c.From == publish.Stage).ToList();

        Assert.Contains(fromBuild, c => c.Sources.Single().TrimEnd('/') == $"{workdir}/{output}");
        var config = File.Environment()[GatewayConfigurationExtensions.ConfigVariable];
        Assert.Contains(fromBuild, c => c.Sources.Single() == $"{workdir}/appsettings.json" && c.Destination == config);
        Assert.Equal("$APP_UID", File.Instructions.Last(i => i.Keyword == "USER").Arguments);
        Assert.Equal(["dotnet", "Gateway.dll"], Dockerfile.ExecForm(File.Single("ENTRYPOINT").Arguments));
    }

    [Fact]
    public void Dockerfile_PortAndHealthPath_AgreeWithTheCode()
    {
        var port = int.Parse(File.Single("EXPOSE").Arguments, System.Globalization.CultureInfo.InvariantCulture);
        var environment = File.Environment();

        Assert.Equal($"http://+:{port}", environment["Urls"]);
        var probe = HealthCommand();
        Assert.Contains($"/dev/tcp/127.0.0.1/{port} ", probe[^1], StringComparison.Ordinal);
        Assert.Contains($"GET {HealthExtensions.LivePath} HTTP/1.1", probe[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Container_ImageEnvironmentAndShippedConfiguration_ServesTheDemoOnAllInterfacesAndPassesTheHealthCheck()
    {
        var port = Ports.Closed();
        var exposed = File.Single("EXPOSE").Arguments;
        var environment = File.Environment().ToDictionary(
            e => e.Key,
            e => (string?)(e.Key == "Urls" ? e.Value.Replace($":{exposed}", $":{port}", StringComparison.Ordinal) : e.Value));
        // The image holds the shipped appsettings.json at GATEWAY_CONFIG's path; here it is the repository's file.
        environment[GatewayConfigurationExtensions.ConfigVariable] = Repository.PathOf("appsettings.json");
        // What a user might also set in the container: the file's own Urls and these must not move the port.
        environment["ASPNETCORE_URLS"] = "http://127.0.0.1:1";

        await using (var gateway = GatewayProcess.Start([], environment))
        {
            var listening = await gateway.WaitUntilListeningAsync(Signal.Patience);
            Assert.Equal(port, listening.Port);
            Assert.True(listening.Host is "[::]" or "0.0.0.0", $"listens on {listening}, not on every interface; {gateway}");

            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            using var answer = await Poll.UntilAsync(
                () => client.GetAsync(new Uri("api/users/42", UriKind.Relative)),
                r => r.StatusCode == HttpStatusCode.OK,
                "the demo aggregate answering 200");

            Assert.Equal(0, await RunHealthCommandAsync(port));
        }

        Assert.NotEqual(0, await RunHealthCommandAsync(port));
    }

    private static string[] HealthCommand()
    {
        var command = Dockerfile.ExecForm(File.Single("HEALTHCHECK").Arguments, "CMD ");
        Assert.Equal(["bash", "-c"], command[..2]);
        return command;
    }

    /// <summary>Runs the image's HEALTHCHECK command here (bash is on the build machine as in the image), port moved.</summary>
    private static async Task<int> RunHealthCommandAsync(int port)
    {
        var command = HealthCommand();
        var exposed = File.Single("EXPOSE").Arguments;
        var start = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardError = true };
        start.ArgumentList.Add(command[1]);
        start.ArgumentList.Add(command[2].Replace($"/dev/tcp/127.0.0.1/{exposed} ", $"/dev/tcp/127.0.0.1/{port} ", StringComparison.Ordinal));
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode;
    }

    /// <summary>A .dockerignore pattern of the forms used there: <c>dir/</c>, <c>**/dir/</c>, <c>*.ext</c>, <c>name</c>.</summary>
    private static bool Excludes(string pattern, string path)
    {
        var segments = path.Split('/');
        var bare = pattern.TrimEnd('/');
        return bare.StartsWith("**/", StringComparison.Ordinal) ? segments.Contains(bare[3..])
            : bare.StartsWith("*.", StringComparison.Ordinal) ? path.EndsWith(bare[1..], StringComparison.Ordinal)
            : path == bare || path.StartsWith(bare + "/", StringComparison.Ordinal);
    }
}
