using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests;

/// <summary>Sources reading other sources' JSON: a DAG, independent sources at once, skipped dependents.</summary>
public sealed class DependencyTests
{
    private static readonly TimeSpan MeetingTime = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Get_DependentSource_IsCalledWithTheFieldOfItsInputAfterTheInputAnswered()
    {
        long profileAnswering = 0;
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/users/{id}", (HttpContext c) =>
            {
                Interlocked.Exchange(ref profileAnswering, EventClock.Next());
                return TestDownstream.WriteJsonAsync(c, """{"id":"42","customerId":"c-7"}""");
            });
            app.MapGet("/customers/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"tier":"gold"}"""));
        });
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Cluster("customers", downstream.BaseAddress)
            .Aggregate("agg", "/agg/{id}", a => a
                // Declared before its input on purpose: order in the file is not order of execution.
                .Source("customer", "customers", "/customers/{profile.customerId}")
                .Source("profile", "users", "/users/{id}", required: true));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("true", answer.Complete);
        Assert.Equal("""{"tier":"gold"}""", answer.Data.GetProperty("customer").GetRawText());
        var customer = downstream.RequestsTo("/customers").Single();
        Assert.Equal("/customers/c-7", customer.RawTarget);
        Assert.True(customer.ArrivedAt > Interlocked.Read(ref profileAnswering), "customer was called before profile answered");
    }

    [Fact]
    public async Task Get_DependentSourceOnNestedNumericField_UsesTheFieldsLiteral()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"account":{"other":{"customerId":1},"customerId":7}}"""));
            app.MapGet("/customers/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
        });
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate("agg", "/agg/{id}", a => a
                .Source("profile", "users", "/users/{id}", required: true)
                .Source("customer", "users", "/customers/{profile.account.customerId}"));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("/customers/7", downstream.RequestsTo("/customers").Single().RawTarget);
    }

    [Fact]
    public async Task Get_TwoIndependentSources_StartAtTheSameTime()
    {
        var meeting = new Rendezvous(2);
        var met = new bool[2];
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/part/{n:int}", async (HttpContext c) =>
            {
                // Each call waits for the other: only calls that run at the same time meet.
                var n = int.Parse((string)c.Request.RouteValues["n"]!, System.Globalization.CultureInfo.InvariantCulture);
                met[n] = await meeting.ArriveAndWaitAsync(MeetingTime, c.RequestAborted);
                await TestDownstream.WriteJsonAsync(c, $$"""{"part":{{n}}}""");
            });
        });
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Downstream("users", timeout: TimeSpan.FromSeconds(5))
            .Aggregate("agg", "/agg", a => a
                .Source("first", "users", "/part/0")
                .Source("second", "users", "/part/1"),
                timeout: TimeSpan.FromSeconds(8));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.True(met[0] && met[1], "the two sources did not run at the same time");
        Assert.Equal("true", answer.Complete);
        Assert.Equal("""{"part":0}""", answer.Data.GetProperty("first").GetRawText());
        Assert.Equal("""{"part":1}""", answer.Data.GetProperty("second").GetRawText());
    }

    [Fact]
    public async Task Get_DependentSource_StartsWhenItsInputIsDoneWhileAnUnrelatedSourceStillRuns()
    {
        var customerCalled = new Signal();
        var slowSawCustomer = false;
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"customerId":"c-7"}"""));
            app.MapGet("/customers/{id}", (HttpContext c) =>
            {
                customerCalled.Set();
                return TestDownstream.WriteJsonAsync(c, "{}");
            });
            app.MapGet("/slow", async (HttpContext c) =>
            {
                // Answers only once customer was called: in phases, customer would wait for this one.
                slowSawCustomer = await customerCalled.TryWaitAsync(MeetingTime, c.RequestAborted);
                await TestDownstream.WriteJsonAsync(c, "{}");
            });
        });
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Downstream("users", timeout: TimeSpan.FromSeconds(5))
            .Aggregate("agg", "/agg/{id}", a => a
                .Source("profile", "users", "/users/{id}", required: true)
                .Source("slow", "users", "/slow")
                .Source("customer", "users", "/customers/{profile.customerId}"),
                timeout: TimeSpan.FromSeconds(8));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.True(slowSawCustomer, "customer was not called while the unrelated source was still running");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("true", answer.Complete);
    }

    [Fact]
    public async Task Get_InputFails_DependentsAreSkippedAndNeverCalled()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"customerId":"c-7"}""", StatusCodes.Status503ServiceUnavailable));
            app.MapGet("/customers/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"regionId":"r-1"}"""));
            app.MapGet("/regions/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
            app.MapGet("/other", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
        });
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate("agg", "/agg/{id}", a => a
                .Source("profile", "users", "/users/{id}")
                .Source("customer", "users", "/customers/{profile.customerId}")
                .Source("region", "users", "/regions/{customer.regionId}")
                .Source("other", "users", "/other"));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("false", answer.Complete);
        Assert.Equal("http_status", answer.ErrorKind("profile"));
        Assert.Equal("skipped", answer.ErrorKind("customer"));
        Assert.Equal("skipped", answer.ErrorKind("region"));
        Assert.Equal("skipped", answer.Outcome("customer"));
        Assert.False(answer.HasData("customer"));
        Assert.False(answer.HasData("region"));
        Assert.Equal("{}", answer.Data.GetProperty("other").GetRawText());
        Assert.Empty(downstream.RequestsTo("/customers"));
        Assert.Empty(downstream.RequestsTo("/regions"));
    }

    [Fact]
    public async Task Get_InputLacksTheField_DependentIsSkippedAndNeverCalled()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/users/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"id":"42","customerId":null}"""));
            app.MapGet("/customers/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
        });
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate("agg", "/agg/{id}", a => a
                .Source("profile", "users", "/users/{id}", required: true)
                .Source("customer", "users", "/customers/{profile.customerId}"));
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/agg/42");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("false", answer.Complete);
        Assert.Equal("skipped", answer.ErrorKind("customer"));
        Assert.Empty(downstream.RequestsTo("/customers"));
    }
}
