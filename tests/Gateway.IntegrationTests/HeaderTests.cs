using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests;

/// <summary>Which inbound headers go downstream: only those in PropagateHeaders, never hop-by-hop ones.</summary>
public sealed class HeaderTests
{
    [Fact]
    public async Task Get_WithListedAndUnlistedHeaders_OnlyListedOnesReachTheDownstream()
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await StartGatewayAsync(downstream);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/agg/42");
        request.Headers.Add("X-Tenant", "req-1");
        request.Headers.Add("Accept-Language", "de-CH");
        request.Headers.Add("X-Secret", "s3cret");
        request.Headers.Add("Authorization", "Bearer token");
        request.Headers.Add("Cookie", "session=abc");

        var answer = await gateway.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var call = Assert.Single(downstream.Requests);
        Assert.Equal("req-1", call.Headers["X-Tenant"]);
        Assert.Equal("de-CH", call.Headers["Accept-Language"]);
        Assert.False(call.Headers.ContainsKey("X-Secret"));
        Assert.False(call.Headers.ContainsKey("Authorization"));
        Assert.False(call.Headers.ContainsKey("Cookie"));
        // The call is addressed to the downstream, not to the gateway the client called.
        Assert.Equal($"127.0.0.1:{downstream.Port}", call.Headers["Host"]);
    }

    [Fact]
    public async Task Get_ListedHeaderNamedInConnectionHeader_IsNotForwarded()
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await StartGatewayAsync(downstream);

        // Raw HTTP/1.1, so that no client library has a say in what the Connection header holds.
        var response = await SendRawAsync(gateway.BaseAddress,
            "GET /agg/42 HTTP/1.1\r\n" +
            $"Host: {gateway.BaseAddress.Authority}\r\n" +
            "Connection: X-Tenant\r\n" +
            "X-Tenant: req-1\r\n" +
            "Accept-Language: de-CH\r\n" +
            "\r\n");

        Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
        var call = Assert.Single(downstream.Requests);
        Assert.False(call.Headers.ContainsKey("X-Tenant"), "a header the client declared hop-by-hop went downstream");
        Assert.Equal("de-CH", call.Headers["Accept-Language"]);
    }

    [Theory]
    [InlineData("a\u0001b")]
    [InlineData("a\u001fb")]
    [InlineData("a\u007fb")]
    public async Task Get_ControlCharacterInAListedHeader_Returns400NamingItWithoutCallingDownstream(string value)
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await StartGatewayAsync(downstream);

        // Raw HTTP/1.1: client libraries refuse to send such a value; Kestrel lets it through.
        var response = await SendRawAsync(gateway.BaseAddress,
            "GET /agg/42 HTTP/1.1\r\n" +
            $"Host: {gateway.BaseAddress.Authority}\r\n" +
            "Connection: close\r\n" +
            "Accept-Language: de-CH\r\n" +
            $"X-Tenant: {value}\r\n" +
            "\r\n",
            wholeAnswer: true);

        Assert.StartsWith("HTTP/1.1 400", response, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/problem+json", response, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("X-Aggregate-Complete: false", response, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\"header\":\"X-Tenant\"", response, StringComparison.Ordinal);
        Assert.Empty(downstream.Requests);
    }

    [Fact]
    public async Task Get_TabInAListedHeaderOrControlCharacterInAnUnlistedOne_IsServed()
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await StartGatewayAsync(downstream);

        var response = await SendRawAsync(gateway.BaseAddress,
            "GET /agg/42 HTTP/1.1\r\n" +
            $"Host: {gateway.BaseAddress.Authority}\r\n" +
            "X-Tenant: a\tb\r\n" +
            "X-Other: a\u0001b\r\n" +
            "\r\n");

        Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
        var call = Assert.Single(downstream.Requests);
        Assert.Equal("a\tb", call.Headers["X-Tenant"]);
        Assert.False(call.Headers.ContainsKey("X-Other"));
    }

    // Sends one request and returns the answer's status line and headers (enough: the gateway answers
    // only once every downstream call is done), or with wholeAnswer everything up to the connection's
    // end (the request must ask for "Connection: close").
    private static async Task<string> SendRawAsync(Uri address, string request, bool wholeAnswer = false)
    {
        using var timeout = new CancellationTokenSource(Signal.Patience);
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (wholeAnswer || !received.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                break;
            }

            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return received.ToString();
    }

    private static Task<TestDownstream> StartDownstreamAsync() =>
        TestDownstream.StartAsync((app, d) => app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}")));

    private static Task<TestGateway> StartGatewayAsync(TestDownstream downstream) =>
        TestGateway.StartAsync(new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .PropagateHeaders("X-Tenant", "Accept-Language")
            .Aggregate("agg", "/agg/{id}", a => a.Source("profile", "users", "/users/{id}", required: true)));
}
