using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests;

/// <summary>Per-source timeouts and the aggregate's deadline.</summary>
public sealed class TimeoutTests
{
    private const string ProfileJson = """{"id":"42","customerId":"c-7"}""";

    [Fact]
    public async Task Get_OptionalSourceSlowerThanItsTimeout_Returns200WithTimeoutErrorAndCancelsTheCall()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await StartDownstreamAsync();
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Downstream("users", timeout: TimeSpan.FromSeconds(5))
            .Aggregate("agg", "/agg/{id}", a => a
                .Source("profile", "users", "/users/{id}", required: true)
                .Source("slow", "users", "/slow", timeout: TimeSpan.FromMilliseconds(200)),
                timeout: TimeSpan.FromSeconds(10));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("false", answer.Complete);
        Assert.Equal(ProfileJson, answer.Data.GetProperty("profile").GetRawText());
        Assert.False(answer.HasData("slow"));
        var error = answer.Error("slow");
        Assert.Equal("timeout", error.GetProperty("kind").GetString());
        Assert.InRange(error.GetProperty("elapsedMs").GetInt64(), 150, 1500);
        Assert.Equal("timeout", answer.Outcome("slow"));
        Assert.True(answer.Elapsed < TimeSpan.FromSeconds(1.5), $"took {answer.Elapsed}");
        // The gateway gave up on the call: the downstream sees its request aborted.
        await downstream.RequestsTo("/slow").Single().Aborted.WaitAsync(Signal.Patience);
    }

    [Fact]
    public async Task Get_AggregateDeadlineShorterThanSourceTimeout_HangingOptionalSourceIsCutOffAtTheDeadline()
    {
        await Warmup.EnsureAsync();
        await using var downstream = await StartDownstreamAsync();
        // The call may take 2 s, the whole request only 300 ms.
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Downstream("users", timeout: TimeSpan.FromSeconds(2))
            .Aggregate("agg", "/agg/{id}", a => a
                .Source("profile", "users", "/users/{id}", required: true)
                .Source("slow", "users", "/slow"),
                timeout: TimeSpan.FromMilliseconds(300));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.True(answer.Elapsed < TimeSpan.FromSeconds(1.5), $"took {answer.Elapsed}");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("false", answer.Complete);
        Assert.Equal("timeout", answer.ErrorKind("slow"));
        Assert.False(answer.HasData("slow"));
        Assert.Equal(ProfileJson, answer.Data.GetProperty("profile").GetRawText());
    }

    [Fact]
    public async Task Get_DependentSourceStartsLate_ItGetsOnlyWhatIsLeftOfTheDeadline()
    {
        await Warmup.EnsureAsync();
        // profile takes 1 s (simulated latency); customer then hangs. Its own timeout (2 s) would let it
        // run until 3 s; the aggregate's deadline (2 s) leaves it about 1 s.
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/users/{id}", async (HttpContext c) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(1), c.RequestAborted);
                await TestDownstream.WriteJsonAsync(c, ProfileJson);
            });
            app.MapGet("/customers/{id}", (HttpContext c) => d.HangAsync(c));
        });
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate("agg", "/agg/{id}", a => a
                .Source("profile", "users", "/users/{id}", required: true, timeout: TimeSpan.FromSeconds(2))
                .Source("customer", "users", "/customers/{profile.customerId}", required: true, timeout: TimeSpan.FromSeconds(2)),
                timeout: TimeSpan.FromSeconds(2));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.GatewayTimeout, answer.StatusCode);
        Assert.Equal("false", answer.Complete);
        Assert.Equal("ok", answer.Outcome("profile"));
        Assert.Equal("timeout", answer.ErrorKind("customer"));
        Assert.InRange(answer.Error("customer").GetProperty("elapsedMs").GetInt64(), 0, 1700);
        Assert.True(answer.Elapsed < TimeSpan.FromSeconds(4), $"took {answer.Elapsed}");
        Assert.Equal("/customers/c-7", downstream.RequestsTo("/customers").Single().RawTarget);
    }

    private static Task<TestDownstream> StartDownstreamAsync() =>
        TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, ProfileJson));
            app.MapGet("/slow", (HttpContext c) => d.HangAsync(c));
        });
}
