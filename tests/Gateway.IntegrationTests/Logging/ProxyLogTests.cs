using System.Net;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.IntegrationTests.Logging;

/// <summary>
/// YARP's forwarder writes two Information lines per proxied request, one with the destination's whole address, and a
/// Warning with a stack trace per failed one; the gateway keeps them out (Error and above) even when the rest of the
/// log is at Information, unless the configuration names that category itself, and logs a failing route as it logs a
/// failing source: one line per interval, no address, no stack trace.
/// </summary>
public sealed class ProxyLogTests
{
    private const string Forwarder = "Yarp.ReverseProxy.Forwarder.HttpForwarder";

    [Fact]
    public async Task Route_LogAtInformation_NoPerRequestLineFromYarpsForwarder()
    {
        await using var downstream = await StartDownstreamAsync();
        var config = Config(downstream);
        await using var gateway = await TestGateway.StartAsync(config);

        await ProxyTwiceAsync(gateway);

        Assert.DoesNotContain(gateway.Log, e => e.Category == Forwarder);
        // The log really is at Information: the host's own lines are there.
        Assert.Contains(gateway.Log, e => e.Level == LogLevel.Information && e.Category.StartsWith("Microsoft.Hosting", StringComparison.Ordinal));
        Assert.DoesNotContain(gateway.Log, e => e.Message.Contains(downstream.BaseAddress.Authority, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Route_ConfigurationNamesTheForwarderCategory_ItsLinesAreWritten()
    {
        await using var downstream = await StartDownstreamAsync();
        var config = Config(downstream);
        config.Root["Logging"]!["LogLevel"]![Forwarder] = "Information";
        await using var gateway = await TestGateway.StartAsync(config);

        await ProxyTwiceAsync(gateway);

        Assert.Contains(gateway.Log, e => e.Category == Forwarder && e.Level == LogLevel.Information);
    }

    [Fact]
    public async Task Route_DownstreamDown_OneThrottledLineWithoutAddressOrStackTrace()
    {
        var address = new Uri($"http://127.0.0.1:{Ports.Closed()}/");
        var config = new GatewayConfig().Cluster("shop", address).PrefixRoute("shop", "shop", "/shop");
        config.Root["Logging"]!["LogLevel"] = new JsonObject { ["Default"] = "Information" };
        await using var gateway = await TestGateway.StartAsync(config);

        for (var i = 0; i < 3; i++)
        {
            var answer = await gateway.GetAsync($"/shop/items/{i}");
            Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
        }

        var line = Assert.Single(gateway.Log, e => e.Category == "Gateway.Proxy.RouteFailureLog");
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("Route shop to downstream 'shop' failed with unavailable", line.Message, StringComparison.Ordinal);
        Assert.Null(line.Exception);
        Assert.DoesNotContain(gateway.Log, e => e.Category == Forwarder);
        Assert.DoesNotContain(gateway.Log, e => e.Message.Contains(address.Authority, StringComparison.Ordinal) || e.Exception is not null);
    }

    private static Task<TestDownstream> StartDownstreamAsync() =>
        TestDownstream.StartAsync((app, d) => app.MapGet("/items/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}")));

    private static GatewayConfig Config(TestDownstream downstream)
    {
        var config = new GatewayConfig().Cluster("shop", downstream.BaseAddress).PrefixRoute("shop", "shop", "/shop");
        config.Root["Logging"]!["LogLevel"] = new JsonObject { ["Default"] = "Information" };
        return config;
    }

    private static async Task ProxyTwiceAsync(TestGateway gateway)
    {
        for (var i = 0; i < 2; i++)
        {
            var answer = await gateway.GetAsync($"/shop/items/{i}");
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }
    }
}
