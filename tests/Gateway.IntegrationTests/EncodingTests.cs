using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests;

/// <summary>
/// Values substituted into source paths: percent-encoded for the one path segment or query value they
/// land in, whatever a client or a downstream's JSON puts in them; missing and optional values.
/// </summary>
public sealed class EncodingTests
{
    [Theory]
    [InlineData("..%2F..%2Fadmin")]
    [InlineData("a%2Fb")]
    [InlineData("a%2fb")]
    [InlineData("..%5Cadmin")]
    public async Task Get_RouteValueWithEncodedSlashInPathSegment_Returns400NamingIt(string rawValue)
    {
        await using var downstream = await StartCatchAllDownstreamAsync();
        await using var gateway = await StartGatewayAsync(downstream, "/agg/{id}", "/users/{id}");

        // ASP.NET decodes the path except %2F: the route value holds "%2F" as text, which is a '/'.
        var answer = await gateway.GetAsync("/agg/" + rawValue);

        AssertRefusedParameter(answer, "id");
        Assert.Empty(downstream.Requests);
    }

    [Theory]
    [InlineData("a%2Fb")]
    [InlineData("a%2fb")]
    public async Task Get_RouteValueWithEncodedSlashInQuery_IsSentAsOneEncodedSlash(string rawValue)
    {
        await using var downstream = await StartCatchAllDownstreamAsync();
        await using var gateway = await StartGatewayAsync(downstream, "/agg/{id}", "/users?id={id}");

        var answer = await gateway.GetAsync("/agg/" + rawValue);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var call = Assert.Single(downstream.Requests);
        Assert.Equal("/users?id=a%2Fb", call.RawTarget);
        Assert.Equal("a/b", call.Query["id"]);
    }

    [Theory]
    [InlineData("a?b=c")]
    [InlineData("a#frag")]
    [InlineData("a%2Fb")]
    [InlineData("a&b=c")]
    [InlineData("%2E%2E")]
    [InlineData("a b+c")]
    [InlineData("zoë")]
    public async Task Get_HostileValueInPathSegment_ReachesTheDownstreamAsThatOneSegment(string value)
    {
        await using var downstream = await StartCatchAllDownstreamAsync();
        await using var gateway = await StartGatewayAsync(downstream, "/agg", "/users/{id}/profile");

        var answer = await gateway.GetAsync("/agg?id=" + Uri.EscapeDataString(value));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var call = Assert.Single(downstream.Requests);
        AssertOneSegment(call, "users", value, "profile");
        Assert.Equal("", call.RawQuery);
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("../admin")]
    [InlineData("../../admin")]
    [InlineData("..\\admin")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    public async Task Get_ValueThatIsADotSegmentOrHoldsASlash_DoesNotClimbOutOfItsSegment(string value)
    {
        await using var downstream = await StartCatchAllDownstreamAsync();
        await using var gateway = await StartGatewayAsync(downstream, "/agg", "/users/{id}/profile");

        var answer = await gateway.GetAsync("/agg?id=" + Uri.EscapeDataString(value));

        // "%2E%2E" is still a dot-segment (RFC 3986 6.2.2.2), and servers such as nginx decode "%2F" before
        // resolving dot-segments ("..%2Fadmin" reaches /admin): no encoding is safe, so the value is refused.
        AssertRefusedParameter(answer, "id");
        Assert.Contains("'id'", answer.Body, StringComparison.Ordinal);
        Assert.Empty(downstream.Requests);
    }

    [Theory]
    [InlineData("a&x=2")]
    [InlineData("a=b")]
    [InlineData("a/b")]
    [InlineData("a?b")]
    [InlineData("a#b")]
    [InlineData("a%2Fb")]
    [InlineData("..")]
    [InlineData("../admin")]
    [InlineData("a+b c")]
    public async Task Get_HostileValueInQuery_ReachesTheDownstreamAsThatOneQueryValue(string value)
    {
        await using var downstream = await StartCatchAllDownstreamAsync();
        await using var gateway = await StartGatewayAsync(downstream, "/agg/{id}", "/users/{id}?q={q}&x=1");

        var answer = await gateway.GetAsync("/agg/7?q=" + Uri.EscapeDataString(value));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var call = Assert.Single(downstream.Requests);
        Assert.Equal("/users/7", call.Path);
        Assert.Equal(["users", "7"], call.RawSegments);
        Assert.Equal(value, call.Query["q"]);
        Assert.Equal("1", call.Query["x"]);
        Assert.Equal(2, call.Query.Count);
    }

    [Theory]
    [InlineData("a?x=1#y")]
    [InlineData("%2E%2E")]
    [InlineData("...")]
    [InlineData("a b")]
    public async Task Get_HostileFieldInInputJson_DependentPathKeepsItInOneSegment(string customerId)
    {
        await using var downstream = await StartProfileDownstreamAsync(customerId);
        await using var gateway = await StartCustomerOrdersGatewayAsync(downstream);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(2, downstream.Requests.Count);
        var call = Assert.Single(downstream.Requests, r => r.RawTarget.StartsWith("/customers/", StringComparison.Ordinal));
        AssertOneSegment(call, "customers", customerId, "orders");
        Assert.DoesNotContain(downstream.Requests, r => r.Path.StartsWith("/admin", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("../admin")]
    [InlineData("../../admin?x=1#y")]
    [InlineData("..\\admin")]
    [InlineData("a/b")]
    public async Task Get_InputJsonFieldThatIsADotSegmentOrHoldsASlash_DependentIsSkippedNamingIt(string customerId)
    {
        await using var downstream = await StartProfileDownstreamAsync(customerId);
        await using var gateway = await StartCustomerOrdersGatewayAsync(downstream);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("skipped", answer.ErrorKind("customer"));
        Assert.Contains("{profile.customerId}", answer.Error("customer").GetProperty("message").GetString(), StringComparison.Ordinal);
        var call = Assert.Single(downstream.Requests);
        Assert.StartsWith("/users/", call.RawTarget, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_RequiredValueMissing_Returns400ProblemNamingIt()
    {
        await using var downstream = await StartCatchAllDownstreamAsync();
        await using var gateway = await StartGatewayAsync(downstream, "/agg", "/accounts/{accountNumber}");

        var missing = await gateway.GetAsync("/agg");
        var empty = await gateway.GetAsync("/agg?accountNumber=");

        foreach (var answer in new[] { missing, empty })
        {
            Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
            Assert.Equal("application/problem+json", answer.ContentType);
            Assert.Equal("false", answer.Complete);
            Assert.Equal(400, answer.Root.GetProperty("status").GetInt32());
            Assert.Contains("accountNumber", answer.Body, StringComparison.Ordinal);
        }

        Assert.Empty(downstream.Requests);
    }

    [Fact]
    public async Task Get_OptionalQueryValue_IsLeftOutWhenMissingAndSentWhenPresent()
    {
        await using var downstream = await StartCatchAllDownstreamAsync();
        await using var gateway = await StartGatewayAsync(downstream, "/agg/{id}", "/orders?user={id}&limit={limit?}");

        var without = await gateway.GetAsync("/agg/7");
        var with = await gateway.GetAsync("/agg/8?limit=5");

        Assert.Equal(HttpStatusCode.OK, without.StatusCode);
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
        var withoutCall = Assert.Single(downstream.Requests, r => r.Query.GetValueOrDefault("user") == "7");
        Assert.Equal("/orders?user=7", withoutCall.RawTarget);
        Assert.DoesNotContain("limit", withoutCall.RawTarget, StringComparison.Ordinal);
        var withCall = Assert.Single(downstream.Requests, r => r.Query.GetValueOrDefault("user") == "8");
        Assert.Equal("/orders?user=8&limit=5", withCall.RawTarget);
    }

    [Fact]
    public async Task Get_OptionalQueryValueFirstAndMissing_RestOfTheQueryIsWellFormed()
    {
        await using var downstream = await StartCatchAllDownstreamAsync();
        await using var gateway = await StartGatewayAsync(downstream, "/agg/{id}", "/orders?limit={limit?}&user={id}");

        var answer = await gateway.GetAsync("/agg/7");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("/orders?user=7", Assert.Single(downstream.Requests).RawTarget);
    }

    private static void AssertRefusedParameter(AggregateAnswer answer, string name)
    {
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.Equal("false", answer.Complete);
        Assert.Equal(name, answer.Root.GetProperty("parameter").GetString());
    }

    // The raw target holds exactly three segments, the middle one the value, percent-encoded; and the
    // downstream's server routed it there too.
    private static void AssertOneSegment(ReceivedRequest call, string first, string value, string last)
    {
        var segments = call.RawSegments;
        Assert.True(segments.Length == 3, $"expected 3 segments in {call.RawTarget}");
        Assert.Equal(first, segments[0]);
        Assert.Equal(value, Uri.UnescapeDataString(segments[1]));
        Assert.Equal(last, segments[2]);
        Assert.DoesNotContain('/', segments[1]);
        AssertRoutedInShape(call, first, last);
    }

    // What the downstream server made of the target (decoded, dot-segments removed): still /first/x/last.
    private static void AssertRoutedInShape(ReceivedRequest call, string first, string last)
    {
        var routed = call.Path.Split('/');
        Assert.True(routed.Length == 4 && routed[1] == first && routed[3] == last,
            $"the downstream served {call.RawTarget} as {call.Path}, not /{first}/<value>/{last}");
    }

    private static Task<TestDownstream> StartCatchAllDownstreamAsync() =>
        TestDownstream.StartAsync((app, d) => app.MapFallback("{**path}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"ok":true}""")));

    private static Task<TestGateway> StartGatewayAsync(TestDownstream downstream, string route, string path) =>
        TestGateway.StartAsync(new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate("agg", route, a => a.Source("profile", "users", path, required: true)));

    // A profile whose customerId is the hostile value, and any other path answering {}.
    private static Task<TestDownstream> StartProfileDownstreamAsync(string customerId) =>
        TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/users/{id}", (HttpContext c) =>
                TestDownstream.WriteJsonAsync(c, System.Text.Json.JsonSerializer.Serialize(new { customerId })));
            app.MapFallback("{**path}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
        });

    private static Task<TestGateway> StartCustomerOrdersGatewayAsync(TestDownstream downstream) =>
        TestGateway.StartAsync(new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate("agg", "/agg/{id}", a => a
                .Source("profile", "users", "/users/{id}", required: true)
                .Source("customer", "users", "/customers/{profile.customerId}/orders")));
}
