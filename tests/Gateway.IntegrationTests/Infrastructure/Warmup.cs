using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>
/// Runs one aggregate round trip per test process before a test that measures time, so that JIT compiling
/// the gateway's first request is not counted against a time bound.
/// </summary>
public static class Warmup
{
    private static readonly Lock Gate = new();
    private static Task? _once;

    public static Task EnsureAsync()
    {
        lock (Gate)
        {
            return _once ??= RunAsync();
        }
    }

    private static async Task RunAsync()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"customerId":"c1"}"""));
            app.MapGet("/customers/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
            app.MapGet("/slow", (HttpContext c) => d.HangAsync(c));
        });
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate("warm", "/warm/{id}", a => a
                .Source("profile", "users", "/users/{id}", required: true)
                .Source("customer", "users", "/customers/{profile.customerId}")
                .Source("slow", "users", "/slow", timeout: TimeSpan.FromMilliseconds(50)));
        await using var gateway = await TestGateway.StartAsync(config);
        for (var i = 0; i < 3; i++)
        {
            await gateway.GetAsync($"/warm/{i}");
        }
    }
}
