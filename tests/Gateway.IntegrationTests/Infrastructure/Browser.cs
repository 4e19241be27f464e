using Microsoft.Playwright;

namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>Debian's headless Chromium driven by Playwright (no browser download), for the tests that look at a page as a user does.</summary>
public static class Browser
{
    /// <summary>Debian's package; <c>.ci/run</c> installs it when missing. <c>GATEWAY_TEST_CHROMIUM</c> names another.</summary>
    public static readonly string ChromiumPath = Environment.GetEnvironmentVariable("GATEWAY_TEST_CHROMIUM") ?? "/usr/bin/chromium";

    /// <summary>Launches it headless, each step bounded by <paramref name="step"/>; fails the test when it is not installed.</summary>
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright, TimeSpan step)
    {
        Assert.True(File.Exists(ChromiumPath), $"Chromium not found at {ChromiumPath}: install Debian's 'chromium' package (apt-get install chromium; .ci/run does it) or set GATEWAY_TEST_CHROMIUM");
        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Timeout = (float)step.TotalMilliseconds,
            // CI runs as root, where Chromium refuses its sandbox; Playwright passes --no-sandbox unless asked for it.
            ChromiumSandbox = false,
        });
    }
}
