using System.Net;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Deploy;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.Playwright;

namespace Gateway.IntegrationTests.AppHost;

/// <summary>
/// The Aspire app host as a developer runs it (<c>src/Gateway.AppHost</c>, built by the project reference): its
/// orchestrator starts <c>redis-server</c>, the demo downstreams and the gateway as processes of this machine, with the
/// Aspire dashboard. Aggregate requests to the gateway must show up in the dashboard (its telemetry API) as a trace
/// with one span per source under the aggregate's span; the trace's page, opened in headless Chromium, is kept as a
/// screenshot under <c>TestResults/</c> next to the test assembly.
/// </summary>
public sealed class AppHostTests
{
    // The app host's first start unpacks and starts its orchestrator and dashboard, then three processes.
    private static readonly TimeSpan Startup = TimeSpan.FromMinutes(3);

    // It answers within 15 s on an idle machine; a first start that has not after this long is retried once.
    private static readonly TimeSpan FirstStart = TimeSpan.FromSeconds(100);

    // Built by the project reference in the tests' configuration (bin/<configuration>/net10.0), in its own folder: an
    // app host finds its orchestrator, dashboard and projects from there.
    private static string AppHostDll => Repository.PathOf(
        $"src/Gateway.AppHost/bin/{new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name}/net10.0/Gateway.AppHost.dll");

    [Fact]
    public async Task AppHost_AggregateRequests_DashboardShowsATraceWithASpanPerSourceUnderTheAggregate()
    {
        Assert.True(File.Exists(AppHostDll), $"{AppHostDll} not found: the test project must reference src/Gateway.AppHost");
        Assert.True(File.Exists("/usr/bin/redis-server") || File.Exists("/usr/local/bin/redis-server"), "redis-server not found (apt-get install redis-server; .ci/run does it)");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var (appHost, dashboard, gateway) = StartAppHost();
        try
        {
            if (await WaitForTheAggregateAsync(http, appHost, gateway, FirstStart) is { } firstProblem)
            {
                // Once more, on other ports: they are picked free here and bound by the app host's processes a moment
                // later, and another test's process may take one in between. A second failure is the test's.
                await appHost.DisposeAsync();
                (appHost, dashboard, gateway) = StartAppHost();
                var secondProblem = await WaitForTheAggregateAsync(http, appHost, gateway, Startup);
                Assert.True(secondProblem is null, $"the gateway under the app host never answered its dashboard aggregate; first start: {firstProblem}; second: {secondProblem}; {appHost}");
            }

            await CheckTheDashboardAsync(http, dashboard, gateway);
        }
        finally
        {
            await appHost.DisposeAsync();
        }
    }

    private static (GatewayProcess AppHost, Uri Dashboard, Uri Gateway) StartAppHost()
    {
        var dashboard = new Uri($"http://127.0.0.1:{Ports.Closed()}/");
        var gatewayPort = Ports.Closed();
        var appHost = GatewayProcess.Start(
            [$"--AppHost:GatewayPort={gatewayPort}", $"--AppHost:DemoPort={Ports.Closed()}", $"--AppHost:RedisPort={Ports.Closed()}"],
            new Dictionary<string, string?>
            {
                ["ASPNETCORE_URLS"] = dashboard.ToString(),
                ["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{Ports.Closed()}",
                ["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://127.0.0.1:{Ports.Closed()}",
                ["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true",
                ["ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"] = "true",
                ["DOTNET_ENVIRONMENT"] = "Development",
            },
            AppHostDll);
        return (appHost, dashboard, new Uri($"http://127.0.0.1:{gatewayPort}/"));
    }

    /// <summary>
    /// Null once the gateway answers its dashboard aggregate (what this test needs; readiness also waits for the demo's
    /// cached dataset, which this aggregate does not read), else what it last said, readiness's JSON included.
    /// </summary>
    private static async Task<string?> WaitForTheAggregateAsync(HttpClient http, GatewayProcess appHost, Uri gateway, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        Probe last;
        do
        {
            last = await ProbeAsync(http, new Uri(gateway, "/api/dashboard/40"), appHost);
            if (last.Status == HttpStatusCode.OK && last.Body.Contains("\"data\"", StringComparison.Ordinal))
            {
                return null;
            }

            last = await ProbeAsync(http, new Uri(gateway, "/health/ready"), appHost);
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
        while (DateTime.UtcNow < until);

        return $"{last.Status}: {last.Body}";
    }

    private static async Task CheckTheDashboardAsync(HttpClient http, Uri dashboard, Uri gateway)
    {
        for (var i = 0; i < 5; i++)
        {
            using var answer = await http.GetAsync(new Uri(gateway, $"/api/dashboard/{40 + i}"));
            Assert.True(answer.StatusCode is HttpStatusCode.OK, $"GET /api/dashboard answered {(int)answer.StatusCode}");
        }

        // The dashboard's telemetry API: OTLP JSON of the spans it holds for the gateway's resource.
        (string TraceId, string Aggregate, JsonObject[] Sources) found = default;
        await Poll.UntilAsync(
            async () => found = FindAggregateTrace(await SpansAsync(http, dashboard)),
            f => f.TraceId is not null,
            "a trace of aggregate 'dashboard' with its four source spans in the dashboard",
            TimeSpan.FromMinutes(1));
        Assert.Equal(
            ["source customer", "source orders", "source profile", "source recommendations"],
            found.Sources!.Select(s => (string)s["name"]!).Order(StringComparer.Ordinal).ToArray());

        await ScreenshotAsync(new Uri(dashboard, $"/traces/detail/{found.TraceId}"), "apphost-dashboard-trace.png");
    }

    // What a URL answered (readiness's JSON names the check that is not healthy yet), or why it could not be asked.
    private static async Task<Probe> ProbeAsync(HttpClient http, Uri url, GatewayProcess appHost)
    {
        Assert.False(appHost.HasExited, $"the app host exited with {(appHost.HasExited ? appHost.ExitCode : 0)}: {appHost}");
        try
        {
            using var response = await http.GetAsync(url);
            return new(response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return new(null, ex.Message);
        }
    }

    private sealed record Probe(HttpStatusCode? Status, string Body);

    private static async Task<JsonNode?> SpansAsync(HttpClient http, Uri dashboard)
    {
        using var response = await http.GetAsync(new Uri(dashboard, "/api/telemetry/spans?resource=gateway&limit=2000"));
        return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync()) : null;
    }

    /// <summary>The first trace with an <c>aggregate dashboard</c> span and a source span under it for each of the aggregate's four sources.</summary>
    private static (string TraceId, string Aggregate, JsonObject[] Sources) FindAggregateTrace(JsonNode? spans)
    {
        var all = new List<JsonObject>();
        Collect(spans, all);
        foreach (var aggregate in all.Where(s => (string?)s["name"] == "aggregate dashboard"))
        {
            var sources = all.Where(s => (string?)s["parentSpanId"] == (string?)aggregate["spanId"] && ((string?)s["name"])?.StartsWith("source ", StringComparison.Ordinal) == true).ToArray();
            if (sources.Length == 4)
            {
                return ((string)aggregate["traceId"]!, (string)aggregate["spanId"]!, sources);
            }
        }

        return default;

        static void Collect(JsonNode? node, List<JsonObject> into)
        {
            switch (node)
            {
                case JsonObject o when o["spanId"] is not null && o["name"] is not null:
                    into.Add(o);
                    break;
                case JsonObject o:
                    foreach (var (_, child) in o)
                    {
                        Collect(child, into);
                    }

                    break;
                case JsonArray a:
                    foreach (var child in a)
                    {
                        Collect(child, into);
                    }

                    break;
            }
        }
    }

    private static async Task ScreenshotAsync(Uri page, string file)
    {
        var step = TimeSpan.FromSeconds(30);
        using var playwright = await Playwright.CreateAsync().WaitAsync(step);
        await using var browser = await Browser.LaunchAsync(playwright, step);
        var tab = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        tab.SetDefaultTimeout((float)step.TotalMilliseconds);
        var screenshot = Path.Combine(AppContext.BaseDirectory, "TestResults", file);
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await tab.GotoAsync(page.ToString());
        // The trace's waterfall names each span: wait for a source's row before taking the picture.
        await tab.GetByText("source profile").First.WaitForAsync();
        await tab.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 0, $"no screenshot at {screenshot}");
    }
}
