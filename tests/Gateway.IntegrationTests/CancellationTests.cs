using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests;

/// <summary>A client that goes away cancels every downstream call of its request at once.</summary>
public sealed class CancellationTests
{
    [Fact]
    public async Task Get_ClientDisconnects_InFlightCallIsCancelledAndDependentIsNeverCalled()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/users/{id}", async (HttpContext c) =>
            {
                await d.HoldAsync(c);
                await TestDownstream.WriteJsonAsync(c, """{"customerId":"c-7"}""");
            });
            app.MapGet("/customers/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
        });
        // Timeouts far away: only the client going away can end the call early.
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Downstream("users", timeout: TimeSpan.FromSeconds(30))
            .Aggregate("agg", "/agg/{id}", a => a
                .Source("profile", "users", "/users/{id}", required: true)
                .Source("customer", "users", "/customers/{profile.customerId}"),
                timeout: TimeSpan.FromSeconds(30));
        await using var gateway = await TestGateway.StartAsync(config);
        using var client = new CancellationTokenSource();

        var pending = gateway.GetAsync("/agg/42", client.Token);
        var call = await downstream.WaitForRequestAsync("/users/42");
        await client.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Signal.Patience));
        await call.Aborted.WaitAsync(Signal.Patience);
        // Once the gateway is done with the request, nothing of it runs any more.
        var exchange = await gateway.WaitForHandledAsync("/agg/42");
        Assert.True(exchange.ClientAborted);
        Assert.Empty(downstream.RequestsTo("/customers"));
    }

    [Fact]
    public async Task Get_ClientDisconnects_EveryInFlightCallIsCancelled()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/part/{n}", async (HttpContext c) =>
            {
                await d.HoldAsync(c);
                await TestDownstream.WriteJsonAsync(c, "{}");
            }));
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Downstream("users", timeout: TimeSpan.FromSeconds(30))
            .Aggregate("agg", "/agg", a => a
                .Source("first", "users", "/part/1")
                .Source("second", "users", "/part/2")
                .Source("third", "users", "/part/3"),
                timeout: TimeSpan.FromSeconds(30));
        await using var gateway = await TestGateway.StartAsync(config);
        using var client = new CancellationTokenSource();

        var pending = gateway.GetAsync("/agg", client.Token);
        var calls = await Task.WhenAll(
            downstream.WaitForRequestAsync("/part/1"),
            downstream.WaitForRequestAsync("/part/2"),
            downstream.WaitForRequestAsync("/part/3"));
        await client.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Signal.Patience));
        await Task.WhenAll(calls.Select(c => c.Aborted)).WaitAsync(Signal.Patience);
    }
}
