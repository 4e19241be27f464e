using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.Playwright;

namespace Gateway.IntegrationTests.OpenApi;

/// <summary>
/// Swagger UI as a user meets it: the shipped demo run as its own process, the page opened in a real
/// headless Chromium (Debian's <c>chromium</c>, driven by Playwright), "Try it out" and "Execute" on a demo
/// aggregate. A screenshot of the answer is saved under <c>TestResults/</c> next to the test assembly.
/// </summary>
public sealed class SwaggerUiBrowserTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task SwaggerUi_TryItOutOnDemoAggregate_Shows200WithTheEnvelope()
    {
        // The shipped appsettings.json: the demo aggregates, their downstreams in-process under /demo.
        await using var gateway = GatewayProcess.Start(["--urls", "http://127.0.0.1:0"]);
        var address = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(30));

        using var playwright = await Playwright.CreateAsync().WaitAsync(Step);
        await using var browser = await Browser.LaunchAsync(playwright, Step);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 2000 } });
        page.SetDefaultTimeout((float)Step.TotalMilliseconds);
        var screenshot = Path.Combine(AppContext.BaseDirectory, "TestResults", "swagger-ui-try-it-out.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        try
        {
            await page.GotoAsync(new Uri(address, "/swagger/index.html").ToString());
            var operation = page.Locator("#operations-Aggregates-profile");
            await operation.Locator(".opblock-summary").ClickAsync();
            await operation.GetByRole(AriaRole.Button, new() { Name = "Try it out" }).ClickAsync();
            await operation.Locator("tr[data-param-name='userId'] input").FillAsync("42");
            await operation.GetByRole(AriaRole.Button, new() { Name = "Execute" }).ClickAsync();

            var live = operation.Locator(".live-responses-table");
            await Assertions.Expect(live.Locator("tr.response .response-col_status")).ToHaveTextAsync("200", new() { Timeout = (float)Step.TotalMilliseconds });
            var body = await live.Locator("tr.response .response-col_description .highlight-code pre").First.InnerTextAsync();
            await operation.ScreenshotAsync(new LocatorScreenshotOptions { Path = screenshot });

            var envelope = JsonNode.Parse(body)!;
            Assert.Equal("42", (string?)envelope["data"]!["profile"]!["id"]);
            Assert.NotNull(envelope["data"]!["customer"]);
            Assert.True((bool)envelope["meta"]!["complete"]!, body);
            Assert.Empty(envelope["errors"]!.AsArray());
        }
        catch
        {
            // The page as it was when it failed says more than the exception.
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
            throw;
        }

        Assert.True(new FileInfo(screenshot).Length > 0, $"no screenshot at {screenshot}");
    }
}
