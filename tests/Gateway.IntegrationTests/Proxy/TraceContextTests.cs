using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Proxy;

/// <summary>
/// The client's trace headers do not travel as they came, through a route or an aggregate: the downstream
/// sees the gateway's own span in the client's trace, never the client's <c>tracestate</c>, and of its
/// <c>baggage</c> only the keys in <c>Gateway:PropagateBaggage</c>.
/// </summary>
public sealed class TraceContextTests
{
    private const string TraceId = "0af7651916cd43dd8448eb211c80319c";
    private const string ClientParentId = "b7ad6b7169203331";
    private const string ClientTraceparent = $"00-{TraceId}-{ClientParentId}-01";

    public static TheoryData<string> Paths => new() { "/traced/1", "/agg/1" };

    // The test gateway logs at Warning: ASP.NET Core starts a request activity whenever its hosting logger is
    // enabled at all, with the client's traceparent as parent and the client's baggage on it.
    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Request_ClientSendsTraceHeaders_DownstreamGetsTheGatewaysSpanInTheClientsTraceWithoutStateOrBaggage(string path)
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream));

        var answer = await SendTracedAsync(gateway, path);

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        var headers = Assert.Single(downstream.Requests).Headers;
        Assert.True(headers.TryGetValue("traceparent", out var traceparent), "the downstream received no traceparent");
        AssertGatewaySpanInClientTrace(traceparent);
        Assert.False(headers.ContainsKey("tracestate"), headers.GetValueOrDefault("tracestate"));
        Assert.False(headers.ContainsKey("baggage"), headers.GetValueOrDefault("baggage"));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Request_PropagateBaggageNamesOneKey_DownstreamGetsThatKeyOnly(string path)
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await TestGateway.StartAsync(Config(downstream).PropagateBaggage("tenant"));

        var answer = await SendTracedAsync(gateway, path);

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        var headers = Assert.Single(downstream.Requests).Headers;
        Assert.True(headers.TryGetValue("baggage", out var baggage), "the downstream received no baggage");
        Assert.Contains("tenant=t1", baggage, StringComparison.Ordinal);
        Assert.DoesNotContain("alice", baggage, StringComparison.Ordinal);
        Assert.False(headers.ContainsKey("tracestate"), headers.GetValueOrDefault("tracestate"));
        AssertGatewaySpanInClientTrace(headers["traceparent"]);
    }

    // With every log level off and no listener, ASP.NET Core starts no request activity and HttpClient's
    // diagnostics handler (which writes the gateway's traceparent) is bypassed: today the downstream then
    // gets no trace context at all, and the allowed baggage is lost too. What must hold either way is that
    // the client's own headers do not slip through (for routes, YARP would copy them verbatim).
    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Request_NoRequestActivity_ClientsTraceHeadersDoNotPassThrough(string path)
    {
        await using var downstream = await StartDownstreamAsync();
        var config = Config(downstream).PropagateBaggage("tenant");
        config.Root["Logging"]!["LogLevel"]!["Default"] = "None";
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await SendTracedAsync(gateway, path);

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        var headers = Assert.Single(downstream.Requests).Headers;
        if (headers.TryGetValue("traceparent", out var traceparent))
        {
            AssertGatewaySpanInClientTrace(traceparent);
        }

        Assert.False(headers.ContainsKey("tracestate"), headers.GetValueOrDefault("tracestate"));
        Assert.DoesNotContain("alice", headers.GetValueOrDefault("baggage") ?? "", StringComparison.Ordinal);
    }

    private static void AssertGatewaySpanInClientTrace(string traceparent)
    {
        var parts = traceparent.Split('-');
        Assert.True(parts.Length == 4 && parts[1].Length == 32 && parts[2].Length == 16, $"not a W3C traceparent: {traceparent}");
        Assert.Equal(TraceId, parts[1]);
        Assert.NotEqual(ClientParentId, parts[2]);
    }

    private static GatewayConfig Config(TestDownstream downstream) =>
        new GatewayConfig()
            .Cluster("traced", downstream.BaseAddress)
            .Route("traced", "traced", "/traced/{**rest}")
            .Aggregate("agg", "/agg/{id}", a => a.Source("traced", "traced", "/traced/{id}", required: true));

    private static Task<TestDownstream> StartDownstreamAsync() =>
        TestDownstream.StartAsync((app, d) => app.MapGet("/traced/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}")));

    private static Task<AggregateAnswer> SendTracedAsync(TestGateway gateway, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.TryAddWithoutValidation("traceparent", ClientTraceparent);
        request.Headers.TryAddWithoutValidation("tracestate", "vendor=secret");
        request.Headers.TryAddWithoutValidation("baggage", "user=alice,tenant=t1");
        return gateway.SendAsync(request);
    }
}
