using System.Net;
using System.Text;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests;

/// <summary>The response envelope: data byte for byte, errors, meta, the completeness header.</summary>
public sealed class EnvelopeTests
{
    // Odd spacing, escapes, a non-ASCII letter, a trailing zero and a number no double holds: any
    // re-serialization would change at least one of them.
    private const string ProfileJson = """{ "id" : "42",  "name":"Zoë \u00e9 \"q\"" ,"score": 1.50, "big": 123456789012345678901234567890, "tags":[ ], "nested": {"a":[1, 2 ,3], "b": null} }""";
    private const string OrdersJson = """[ {"id":1} ,{"id":2}]""";

    [Fact]
    public async Task Get_AllSourcesSucceed_Returns200WithDownstreamJsonByteForByte()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, ProfileJson));
            app.MapGet("/orders", (HttpContext c) => TestDownstream.WriteJsonAsync(c, OrdersJson));
        });
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate("agg", "/agg/{id}", a => a
                .Source("profile", "users", "/users/{id}", required: true)
                .Source("orders", "users", "/orders?user={id}"));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("application/json", answer.ContentType);
        Assert.Equal("true", answer.Complete);
        Assert.Equal(ProfileJson, answer.Data.GetProperty("profile").GetRawText());
        Assert.Equal(OrdersJson, answer.Data.GetProperty("orders").GetRawText());
        Assert.Empty(answer.Errors);
        Assert.True(answer.Meta.GetProperty("complete").GetBoolean());
        foreach (var source in new[] { "profile", "orders" })
        {
            Assert.Equal("ok", answer.Outcome(source));
            Assert.Equal(200, answer.SourceMeta(source).GetProperty("status").GetInt32());
        }
    }

    [Fact]
    public async Task Get_DownstreamJsonStartsWithByteOrderMark_DataHoldsTheJsonWithoutIt()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/users/{id}", (HttpContext c) =>
                TestDownstream.WriteBytesAsync(c, [.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes(ProfileJson)], "application/json")));
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate("agg", "/agg/{id}", a => a.Source("profile", "users", "/users/{id}", required: true));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(ProfileJson, answer.Data.GetProperty("profile").GetRawText());
        Assert.DoesNotContain('\uFEFF', answer.Body);
    }

    [Fact]
    public async Task Get_CodeFirstAggregate_AnswersTheSameEnvelope()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, ProfileJson));
            app.MapGet("/slow", (HttpContext c) => d.HangAsync(c));
        });
        // The configuration declares the cluster; the aggregate itself exists only in code.
        var config = new GatewayConfig().Cluster("users", downstream.BaseAddress);
        await using var gateway = await TestGateway.StartAsync(config, app =>
            app.MapAggregate("codeFirst", "/code/{id}", a => a
                .WithTimeout(TimeSpan.FromSeconds(5))
                .AddSource("profile", "users", "/users/{id}", required: true)
                .AddSource("slow", "users", "/slow", timeout: TimeSpan.FromMilliseconds(200))));

        var answer = await gateway.GetAsync("/code/42");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("application/json", answer.ContentType);
        Assert.Equal("false", answer.Complete);
        Assert.Equal(ProfileJson, answer.Data.GetProperty("profile").GetRawText());
        Assert.False(answer.HasData("slow"));
        Assert.Equal("timeout", answer.ErrorKind("slow"));
        Assert.False(answer.Meta.GetProperty("complete").GetBoolean());
        Assert.Equal("ok", answer.Outcome("profile"));
        Assert.Equal("timeout", answer.Outcome("slow"));
        Assert.Equal("/users/42", downstream.RequestsTo("/users").Single().RawTarget);
    }

    [Fact]
    public async Task Get_EveryErrorKind_MessagesNameNoAddressAndNoStackTrace()
    {
        var closedPort = Ports.Closed();
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/hang", (HttpContext c) => d.HangAsync(c));
            app.MapGet("/broken", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"id":"x"}""", StatusCodes.Status503ServiceUnavailable));
            app.MapGet("/garbage", (HttpContext c) => TestDownstream.WriteBytesAsync(c, "<html>oops</html>"u8.ToArray(), "application/json"));
        });
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Cluster("capped", downstream.BaseAddress)
            .Cluster("closed", new Uri($"http://127.0.0.1:{closedPort}/"))
            .Downstream("capped", maxConcurrency: 1, maxQueue: 0)
            .Aggregate("agg", "/agg", a => a
                .Source("slow", "users", "/hang", timeout: TimeSpan.FromMilliseconds(200))
                .Source("broken", "users", "/broken")
                .Source("gone", "closed", "/anything")
                .Source("garbage", "users", "/garbage")
                .Source("dependent", "users", "/customers/{broken.id}")
                .Source("capped1", "capped", "/hang", timeout: TimeSpan.FromMilliseconds(200))
                .Source("capped2", "capped", "/hang", timeout: TimeSpan.FromMilliseconds(200)));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("false", answer.Complete);
        var kinds = answer.Errors.Select(e => e.GetProperty("kind").GetString()).ToHashSet();
        Assert.Equal(["timeout", "http_status", "unavailable", "invalid_response", "skipped", "rejected"], kinds);
        Assert.Equal(7, answer.Errors.Count);
        foreach (var error in answer.Errors)
        {
            var message = error.GetProperty("message").GetString();
            Assert.False(string.IsNullOrWhiteSpace(message), $"empty message in {error}");
            foreach (var secret in new[] { "127.0.0.1", "localhost", "http:", downstream.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), closedPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "Exception", "   at ", "\n" })
            {
                Assert.DoesNotContain(secret, message, StringComparison.OrdinalIgnoreCase);
            }
        }

        Assert.DoesNotContain("127.0.0.1", answer.Body, StringComparison.Ordinal);
    }
}
