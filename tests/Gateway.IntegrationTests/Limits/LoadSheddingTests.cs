using System.Net;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Limits;

/// <summary><c>Gateway:RateLimiting:MaxConcurrentRequests</c>: past it the gateway sheds with 503 at once, never queues, and still answers its probes.</summary>
public sealed class LoadSheddingTests
{
    [Fact]
    public async Task MaxConcurrentRequests_AllHeldAtHangingDownstream_NextIsShedAtOnceAndHealthAnswers()
    {
        await Warmup.EnsureAsync();
        var release = new Signal();
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/users/{id}", d.HeldJson(release, """{"ok":true}""", TimeSpan.FromSeconds(15))));
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Downstream("users", timeout: TimeSpan.FromSeconds(15))
            .Aggregate("profile", "/profile/{id}", a => a.Source("user", "users", "/users/{id}", required: true), timeout: TimeSpan.FromSeconds(20))
            .PrefixRoute("users", "users", "/proxy");
        config.Gateway["RateLimiting"] = new JsonObject { ["MaxConcurrentRequests"] = 2 };
        await using var gateway = await TestGateway.StartAsync(config);

        try
        {
            var held = new[] { gateway.GetAsync("/profile/held1"), gateway.GetAsync("/proxy/users/held2") };
            await downstream.WaitForRequestAsync("/users/held1");
            await downstream.WaitForRequestAsync("/users/held2");

            var shed = await gateway.GetAsync("/profile/shed");
            var shedRoute = await gateway.GetAsync("/proxy/users/shed");
            var live = await gateway.GetAsync("/health/live");
            var ready = await gateway.GetAsync("/health/ready");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, shed.StatusCode);
            // At once, not after the held requests: they hang until the test ends. Generous for a busy CI machine.
            Assert.True(shed.Elapsed < TimeSpan.FromSeconds(5), $"shedding took {shed.Elapsed}");
            Assert.Equal("1", shed.Headers.RetryAfter?.ToString());
            Assert.Equal("application/problem+json", shed.ContentType);
            Assert.Equal(503, shed.Root.GetProperty("status").GetInt32());
            Assert.Equal("false", shed.Complete);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, shedRoute.StatusCode);
            Assert.Equal("application/problem+json", shedRoute.ContentType);
            Assert.Empty(downstream.RequestsTo("/users/shed"));
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

            release.Set();
            foreach (var answer in await Task.WhenAll(held).WaitAsync(Signal.Patience))
            {
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            }

            // The slots are given back when the answers are done.
            var after = await gateway.GetAsync("/profile/after");
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }
        finally
        {
            release.Set();
        }
    }
}
