using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests;

/// <summary>The answer's status code and X-Aggregate-Complete, from what became of required and optional sources.</summary>
public sealed class StatusTests
{
    private const string ProfileJson = """{"id":"42"}""";

    [Fact]
    public async Task Get_OptionalSourceAnswers503_Returns200WithHttpStatusError()
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await StartGatewayAsync(downstream, "/broken", required: false);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("false", answer.Complete);
        Assert.Equal(ProfileJson, answer.Data.GetProperty("profile").GetRawText());
        Assert.False(answer.HasData("extra"));
        var error = answer.Error("extra");
        Assert.Equal("http_status", error.GetProperty("kind").GetString());
        Assert.Equal(503, error.GetProperty("status").GetInt32());
        Assert.Equal("http_status", answer.Outcome("extra"));
        Assert.Equal(503, answer.SourceMeta("extra").GetProperty("status").GetInt32());
        Assert.False(answer.Meta.GetProperty("complete").GetBoolean());
    }

    [Fact]
    public async Task Get_RequiredSourceAnswers503_Returns502WithHttpStatusError()
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await StartGatewayAsync(downstream, "/broken", required: true);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
        Assert.Equal("false", answer.Complete);
        Assert.Equal("application/json", answer.ContentType);
        Assert.Equal("http_status", answer.ErrorKind("extra"));
        Assert.Equal(503, answer.Error("extra").GetProperty("status").GetInt32());
        Assert.False(answer.HasData("extra"));
        // Fail-fast: profile is there when it answered first, else it was cancelled.
        Assert.True(answer.HasData("profile") ? answer.Data.GetProperty("profile").GetRawText() == ProfileJson : answer.Outcome("profile") == "cancelled");
    }

    [Fact]
    public async Task Get_OptionalSourceRedirects_RedirectIsNotFollowedAndIsAnHttpStatusError()
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await StartGatewayAsync(downstream, "/redirect", required: false);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("http_status", answer.ErrorKind("extra"));
        Assert.Equal(302, answer.Error("extra").GetProperty("status").GetInt32());
        Assert.Empty(downstream.RequestsTo("/users/elsewhere"));
    }

    [Fact]
    public async Task Get_RequiredSourceUnavailable_Returns502WithUnavailableError()
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await StartWithClosedExtraAsync(downstream, extraRequired: true);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
        Assert.Equal("false", answer.Complete);
        Assert.Equal("unavailable", answer.ErrorKind("extra"));
        Assert.Equal("unavailable", answer.Outcome("extra"));
        Assert.False(answer.HasData("extra"));
    }

    [Fact]
    public async Task Get_OptionalSourceUnavailable_Returns200WithUnavailableError()
    {
        await using var downstream = await StartDownstreamAsync();
        await using var gateway = await StartWithClosedExtraAsync(downstream, extraRequired: false);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("false", answer.Complete);
        Assert.Equal("unavailable", answer.ErrorKind("extra"));
        Assert.DoesNotContain(gateway.Log, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
    }

    [Theory]
    [InlineData("<html>oops</html>")]
    [InlineData("""{"id": 1""")]
    [InlineData("""{"a":1} {"b":2}""")]
    [InlineData("")]
    [InlineData("{'single':'quotes'}")]
    public async Task Get_OptionalSourceAnswersInvalidJson_Returns200WithInvalidResponseError(string body)
    {
        await using var downstream = await StartDownstreamAsync(invalidBody: body);
        await using var gateway = await StartGatewayAsync(downstream, "/invalid", required: false);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("false", answer.Complete);
        Assert.Equal("invalid_response", answer.ErrorKind("extra"));
        Assert.False(answer.HasData("extra"));
        Assert.Equal(ProfileJson, answer.Data.GetProperty("profile").GetRawText());
    }

    [Fact]
    public async Task Get_RequiredSourceAnswersInvalidJson_Returns502WithInvalidResponseError()
    {
        await using var downstream = await StartDownstreamAsync(invalidBody: "not json at all");
        await using var gateway = await StartGatewayAsync(downstream, "/invalid", required: true);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
        Assert.Equal("false", answer.Complete);
        Assert.Equal("invalid_response", answer.ErrorKind("extra"));
    }

    [Fact]
    public async Task Get_RequiredSourceExceedsItsOwnTimeout_Returns504WithTimeoutError()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await StartDownstreamAsync();
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate("agg", "/agg/{id}", a => a
                .Source("profile", "users", "/users/{id}", required: true)
                .Source("extra", "users", "/hang", required: true, timeout: TimeSpan.FromMilliseconds(200)));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.GatewayTimeout, answer.StatusCode);
        Assert.Equal("false", answer.Complete);
        Assert.Equal("timeout", answer.ErrorKind("extra"));
        Assert.False(answer.HasData("extra"));
        Assert.True(answer.Elapsed < TimeSpan.FromSeconds(1.5), $"took {answer.Elapsed}");
    }

    [Fact]
    public async Task Get_AggregateDeadlineCutsRequiredSource_Returns504WithTimeoutError()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await StartDownstreamAsync();
        // No source or downstream timeout: the call would get 2 s; the aggregate allows 300 ms.
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate("agg", "/agg/{id}", a => a
                .Source("profile", "users", "/users/{id}", required: true)
                .Source("extra", "users", "/hang", required: true),
                timeout: TimeSpan.FromMilliseconds(300));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.GatewayTimeout, answer.StatusCode);
        Assert.Equal("false", answer.Complete);
        Assert.Equal("timeout", answer.ErrorKind("extra"));
        Assert.True(answer.Elapsed < TimeSpan.FromSeconds(1.5), $"took {answer.Elapsed}");
    }

    private static Task<TestDownstream> StartDownstreamAsync(string invalidBody = "") =>
        TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, ProfileJson));
            app.MapGet("/broken", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"error":"down"}""", StatusCodes.Status503ServiceUnavailable));
            app.MapGet("/invalid", (HttpContext c) => TestDownstream.WriteBytesAsync(c, System.Text.Encoding.UTF8.GetBytes(invalidBody), "application/json"));
            app.MapGet("/redirect", (HttpContext c) =>
            {
                c.Response.StatusCode = StatusCodes.Status302Found;
                c.Response.Headers.Location = "/users/elsewhere";
                return Task.CompletedTask;
            });
            app.MapGet("/hang", (HttpContext c) => d.HangAsync(c));
        });

    private static Task<TestGateway> StartGatewayAsync(TestDownstream downstream, string extraPath, bool required) =>
        TestGateway.StartAsync(new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate("agg", "/agg/{id}", a => a
                .Source("profile", "users", "/users/{id}", required: true)
                .Source("extra", "users", extraPath, required: required)));

    // "extra" points at a 127.0.0.1 port nothing listens on.
    private static Task<TestGateway> StartWithClosedExtraAsync(TestDownstream downstream, bool extraRequired) =>
        TestGateway.StartAsync(new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Cluster("closed", new Uri($"http://127.0.0.1:{Ports.Closed()}/"))
            .Aggregate("agg", "/agg/{id}", a => a
                .Source("profile", "users", "/users/{id}", required: true)
                .Source("extra", "closed", "/users/{id}", required: extraRequired)));
}
