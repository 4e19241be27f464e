using System.Net;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.IntegrationTests.Logging;

/// <summary>
/// YARP's forwarder writes two Information lines per proxied request, one with the destination's whole address; the
/// gateway keeps them at Warning even when the rest of the log is at Information, unless the configuration names
/// that category itself.
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
