using System.Diagnostics;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests.Deploy;

/// <summary>
/// deploy/loadtest/openloop.sh, the open-loop kit (Artillery, installed by the script from npm on first use), against
/// the real gateway on its embedded demo: short steps, then report.json read back. The demo's dashboard is partial on
/// most answers (its recommendations source is slower than its timeout) while every answer is a 200: the kit must see
/// that, and a partial-share threshold must fail the run. A dead port fails at once, before any step.
/// </summary>
public sealed class OpenLoopLoadTestTests : IDisposable
{
    private readonly string _out = Directory.CreateTempSubdirectory("gateway-openloop-").FullName;

    public void Dispose() => Directory.Delete(_out, recursive: true);

    [Fact]
    public async Task Script_AgainstTheDemoDashboard_ReportsEveryStepAndItsPartialShareAndFailsTheThreshold()
    {
        await using var gateway = GatewayProcess.Start(["--urls", "http://127.0.0.1:0"]);
        var address = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(30));

        var run = await RunAsync(TimeSpan.FromMinutes(4), "--url", $"{address}api/dashboard/42", "--rates", "4,8", "--duration", "2", "--max-partial", "0.1");

        Assert.True(run.ExitCode == 1, $"expected exit 1 (threshold crossed): {run.Output}");
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_out, "report.json")))!;
        var steps = report["steps"]!.AsArray();
        Assert.Equal([4, 8], steps.Select(s => (int)s!["offeredPerSecond"]!));
        Assert.All(steps, s =>
        {
            Assert.True((double)s!["achievedPerSecond"]! > 0, run.Output);
            Assert.Equal(0, (double)s["non2xxShare"]!);
            Assert.True((double)s["p99Ms"]! >= (double)s["p50Ms"]!, run.Output);
        });
        // Every answer a 200, most of them partial: what a closed-loop tool counting non-2xx reported as "0 % failures".
        Assert.Contains(steps, s => (double)s!["partialShare"]! > 0.1);
        Assert.Contains("threshold crossed: ", run.Output, StringComparison.Ordinal);
        Assert.Contains("--max-partial 0.1", run.Output, StringComparison.Ordinal);
        Assert.NotEmpty(report["crossed"]!.AsArray());

        // The plot beside the JSON, drawn as run.sh draws it: one point per step on each series.
        var plot = System.Xml.Linq.XDocument.Load(Path.Combine(_out, "plot.svg"));
        System.Xml.Linq.XNamespace svg = "http://www.w3.org/2000/svg";
        var ok = Assert.Single(plot.Descendants(svg + "polyline"), p => (string?)p.Attribute("class") == "ok");
        Assert.Equal(2, ((string)ok.Attribute("points")!).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    // The URL goes into Artillery's YAML: a quote or a backslash could change it, so the script refuses them.
    [Theory]
    [InlineData("http://127.0.0.1:1/a\"b")]
    [InlineData("http://127.0.0.1:1/a\\b")]
    public async Task Script_UrlWithAQuoteOrBackslash_RefusedBeforeSendingAnything(string url)
    {
        var run = await RunAsync(TimeSpan.FromSeconds(30), "--url", url, "--rates", "4", "--duration", "1");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--url must be an http(s) URL", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Script_DeadTarget_FailsAtOnceSayingSo()
    {
        var port = Ports.Closed();
        var started = Stopwatch.StartNew();

        var run = await RunAsync(TimeSpan.FromSeconds(30), "--url", $"http://127.0.0.1:{port}/api/dashboard/42", "--rates", "4", "--duration", "2");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"http://127.0.0.1:{port}/api/dashboard/42 does not answer", run.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_out, "report.json")));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(20), $"took {started.Elapsed}");
    }

    private Task<(int ExitCode, string Output)> RunAsync(TimeSpan limit, params string[] arguments) =>
        Script.RunAsync("deploy/loadtest/openloop.sh", arguments.Concat(["--out", _out]), limit);
}
