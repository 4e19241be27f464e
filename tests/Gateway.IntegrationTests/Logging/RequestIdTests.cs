using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Gateway.IntegrationTests.Logging;

/// <summary>
/// <c>X-Request-Id</c>: the client's when well-formed, else a generated one; echoed on every answer, received by
/// the downstreams of aggregates and pass-through routes, and in the log scope of the lines the request causes.
/// </summary>
public sealed partial class RequestIdTests
{
    private const string Header = "X-Request-Id";

    public static TheoryData<string> Paths => new() { "/agg/1", "/proxy/1" };

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex GeneratedId();

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Request_WellFormedId_IsEchoedAndReachesTheDownstreamUnchanged(string path)
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream));
        const string id = "client-Id_1.2:3+4/5=";

        var answer = await SendAsync(gateway, path, id);

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        Assert.Equal(id, Echoed(answer));
        Assert.Equal(id, Assert.Single(downstream.Requests).Headers[Header]);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Request_NoId_GetsAGeneratedOneEchoedAndSentDownstream(string path)
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream));

        var first = await SendAsync(gateway, path, id: null);
        var second = await SendAsync(gateway, path, id: null);

        Assert.True(first.StatusCode == HttpStatusCode.OK, first.ToString());
        var id = Echoed(first);
        Assert.Matches(GeneratedId(), id);
        Assert.NotEqual(id, Echoed(second));
        Assert.Equal([id, Echoed(second)], downstream.Requests.Select(r => r.Headers[Header]));
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "/agg/1", new string('a', 129) },
        { "/proxy/1", new string('a', 129) },
        { "/agg/1", "has space" },
        { "/agg/1", "<script>alert(1)</script>" },
        { "/proxy/1", "quote\"d" },
        { "/agg/1", "a,b" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Request_MalformedId_IsReplacedOnTheAnswerAndDownstream(string path, string sent)
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream));

        var answer = await SendAsync(gateway, path, sent);

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        var id = Echoed(answer);
        Assert.Matches(GeneratedId(), id);
        Assert.Equal(id, Assert.Single(downstream.Requests).Headers[Header]);
    }

    [Theory]
    [InlineData("a\u0001b")]
    [InlineData("a\tb")]
    [InlineData("a\u007fb")]
    public async Task Request_ControlCharacterInId_IsReplacedNotEchoedNorForwarded(string sent)
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream));

        // Raw HTTP/1.1: client libraries refuse to send such a value; Kestrel lets it through.
        var response = await SendRawAsync(gateway.BaseAddress,
            "GET /agg/1 HTTP/1.1\r\n" +
            $"Host: {gateway.BaseAddress.Authority}\r\n" +
            "Connection: close\r\n" +
            $"X-Request-Id: {sent}\r\n" +
            "\r\n");

        Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
        var echoed = Regex.Match(response, "^X-Request-Id: (.*)\r$", RegexOptions.Multiline | RegexOptions.IgnoreCase).Groups[1].Value;
        Assert.Matches(GeneratedId(), echoed);
        Assert.Equal(echoed, Assert.Single(downstream.Requests).Headers[Header]);
    }

    [Fact]
    public async Task Request_TwoIds_AreReplacedByOne()
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/agg/1");
        request.Headers.TryAddWithoutValidation(Header, ["one", "two"]);

        var answer = await gateway.SendAsync(request);

        var id = Echoed(answer);
        Assert.Matches(GeneratedId(), id);
        Assert.Equal(id, Assert.Single(downstream.Requests).Headers[Header]);
    }

    [Theory]
    [InlineData("/nothing/here", HttpStatusCode.NotFound)]
    [InlineData("/byquery", HttpStatusCode.BadRequest)]
    public async Task Request_AnsweredWithoutADownstream_StillEchoesTheId(string path, HttpStatusCode expected)
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream));

        var answer = await SendAsync(gateway, path, "req-404");

        Assert.True(answer.StatusCode == expected, answer.ToString());
        Assert.Equal("req-404", Echoed(answer));
        Assert.Empty(downstream.Requests);
    }

    [Fact]
    public async Task PassThrough_DownstreamAnswersItsOwnId_ClientGetsTheGatewaysOnce()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/users/{id}", (HttpContext c) =>
            {
                c.Response.Headers[Header] = "downstream-own";
                return TestDownstream.WriteJsonAsync(c, "{}");
            }));
        await using var gateway = await TestGateway.StartAsync(Config(downstream));

        var answer = await SendAsync(gateway, "/proxy/1", "req-1");

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        Assert.Equal(["req-1"], answer.Headers.GetValues(Header));
    }

    [Fact]
    public async Task FailedRequiredSource_WarningCarriesTheRequestIdInItsScopeAndTheFailureFields()
    {
        var config = new GatewayConfig()
            .Cluster("users", new Uri($"http://127.0.0.1:{Ports.Closed()}/"))
            .Aggregate("agg", "/agg/{id}", a => a.Source("profile", "users", "/users/{id}", required: true));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await SendAsync(gateway, "/agg/1", "req-scope-1");

        Assert.True(answer.StatusCode == HttpStatusCode.BadGateway, answer.ToString());
        var line = Assert.Single(gateway.Log, e => e.EventName == "SourceFailed");
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Equal("req-scope-1", line.Scopes["XRequestId"]);
        Assert.Equal("agg", line.Fields["Aggregate"]);
        Assert.Equal("profile", line.Fields["Source"]);
        Assert.Equal("unavailable", line.Fields["Kind"]);
        // ASP.NET Core's request activity: the same trace as the scope's TraceId.
        Assert.Matches("^[0-9a-f]{32}$", line.Fields["TraceId"]!);
        Assert.Equal(line.Scopes["TraceId"]?.ToString(), line.Fields["TraceId"]);
    }

    private static string Echoed(AggregateAnswer answer) =>
        Assert.Single(answer.Headers.TryGetValues(Header, out var values) ? values : []);

    private static async Task<AggregateAnswer> SendAsync(TestGateway gateway, string path, string? id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (id is not null)
        {
            request.Headers.TryAddWithoutValidation(Header, id);
        }

        return await gateway.SendAsync(request);
    }

    private static Task<TestDownstream> StartDownstreamAsync() =>
        TestDownstream.StartAsync((app, d) => app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}")));

    private static GatewayConfig Config(TestDownstream downstream) =>
        new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Route("proxied", "users", "/proxy/{id}", configure: r => r["Transforms"] = new System.Text.Json.Nodes.JsonArray(
                new System.Text.Json.Nodes.JsonObject { ["PathPattern"] = "/users/{id}" }))
            .Aggregate("agg", "/agg/{id}", a => a.Source("profile", "users", "/users/{id}", required: true))
            .Aggregate("byquery", "/byquery", a => a.Source("profile", "users", "/users/{id}", required: true));

    private static async Task<string> SendRawAsync(Uri address, string request)
    {
        using var timeout = new CancellationTokenSource(Signal.Patience);
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (true)
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
}
