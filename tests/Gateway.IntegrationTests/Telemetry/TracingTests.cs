using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;
using OpenTelemetry.Trace;

namespace Gateway.IntegrationTests.Telemetry;

/// <summary>
/// The gateway's spans, read with OpenTelemetry's in-memory exporter from the real gateway: aggregate under
/// ASP.NET Core's request span, a source under its aggregate, an attempt under its source when the downstream
/// retries, HttpClient's span under those; the downstream's <c>traceparent</c> in the same trace.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class TracingTests
{
    private const string ClientTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string ClientParentId = "00f067aa0ba902b7";

    [Fact]
    public async Task Aggregate_Traced_SpansNestRequestAggregateSourceAttemptAndDownstreamGetsTheTrace()
    {
        var name = Unique("trace");
        var flakyHits = 0;
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/profile/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"customerId":"c-7"}"""));
            app.MapGet("/customer/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"tier":"gold"}"""));
            app.MapGet("/flaky/{id}", (HttpContext c) => Interlocked.Increment(ref flakyHits) == 1
                ? TestDownstream.WriteJsonAsync(c, "{}", StatusCodes.Status503ServiceUnavailable)
                : TestDownstream.WriteJsonAsync(c, """{"ok":true}"""));
        });
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Cluster("flaky", downstream.BaseAddress)
            .Resilience("flaky", r => r.Retry(maxRetryAttempts: 2, delay: TimeSpan.FromMilliseconds(10)))
            .Aggregate(name, $"/{name}/{{id}}", a => a
                .Source("profile", "users", "/profile/{id}", required: true)
                .Source("customer", "users", "/customer/{profile.customerId}")
                .Source("flaky", "flaky", "/flaky/{id}"));
        var spans = new ExportedItems<Activity>();
        await using var gateway = await StartTracedAsync(config, spans);

        var answer = await gateway.GetAsync($"/{name}/1");

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        var trace = await TraceOfAsync(spans, name);
        var aggregate = trace.Single(s => s.DisplayName == $"aggregate {name}");
        var request = trace.Single(s => s.DisplayName == $"GET /{name}/{{id}}");
        Assert.Equal(request.SpanId, aggregate.ParentSpanId);
        Assert.Equal(name, aggregate.GetTagItem("gateway.aggregate"));
        Assert.Equal((object)200, aggregate.GetTagItem("http.response.status_code"));
        Assert.Equal(true, aggregate.GetTagItem("gateway.complete"));

        foreach (var source in new[] { "profile", "customer", "flaky" })
        {
            var span = trace.Single(s => s.DisplayName == $"source {source}");
            // A dependent source (customer waits for profile) is still a child of the aggregate, not of its input.
            Assert.Equal(aggregate.SpanId, span.ParentSpanId);
            Assert.Equal(name, span.GetTagItem("gateway.aggregate"));
            Assert.Equal(source, span.GetTagItem("gateway.source"));
            Assert.Equal("ok", span.GetTagItem("gateway.outcome"));
            Assert.Null(span.GetTagItem("error.type"));
        }

        var profile = trace.Single(s => s.DisplayName == "source profile");
        Assert.Equal("users", profile.GetTagItem("gateway.cluster"));
        Assert.Equal("a", profile.GetTagItem("gateway.destination"));
        Assert.Equal(true, profile.GetTagItem("gateway.required"));

        // No HttpClient span on aggregate calls by default: the source's span says what it would, and is the parent the downstream is told.
        Assert.Equal("GET", profile.GetTagItem("http.request.method"));
        Assert.Equal("/profile/{id}", profile.GetTagItem("url.template"));
        Assert.DoesNotContain(trace, s => s.Source.Name == "System.Net.Http");
        var profileCall = Assert.Single(downstream.RequestsTo("/profile/"));
        Assert.Equal($"00-{aggregate.TraceId}-{profile.SpanId}-01", profileCall.Headers["traceparent"]);

        // The first attempt is the source's own span; the retry has one of its own under it.
        var flaky = trace.Single(s => s.DisplayName == "source flaky");
        Assert.Equal((object)2, flaky.GetTagItem("gateway.attempts"));
        var retry = Assert.Single(trace, s => s.DisplayName == "attempt flaky");
        Assert.Equal(flaky.SpanId, retry.ParentSpanId);
        Assert.Equal((object)2, retry.GetTagItem("gateway.attempt.number"));
        Assert.Equal("flaky", retry.GetTagItem("gateway.cluster"));
        Assert.Equal("a", retry.GetTagItem("gateway.destination"));
        Assert.Equal("ok", retry.GetTagItem("gateway.outcome"));
        Assert.Equal((object)200, retry.GetTagItem("http.response.status_code"));
        Assert.Equal(ActivityStatusCode.Unset, retry.Status);
        var flakyCalls = downstream.RequestsTo("/flaky/");
        Assert.Equal(2, flakyCalls.Count);
        Assert.Equal($"00-{aggregate.TraceId}-{flaky.SpanId}-01", flakyCalls[0].Headers["traceparent"]);
        Assert.Equal($"00-{aggregate.TraceId}-{retry.SpanId}-01", flakyCalls[1].Headers["traceparent"]);
    }

    // Gateway:Telemetry:HttpClientSpans: each attempt's HttpClient span under the source's (first attempt) or the
    // retry's span, and the parent the downstream is told.
    [Fact]
    public async Task Aggregate_HttpClientSpansOn_EachAttemptHasItsHttpClientSpanAndTheDownstreamGetsIt()
    {
        var name = Unique("httpspans");
        var hits = 0;
        await using var downstream = await TestDownstream.StartAsync((app, d) => app.MapGet("/flaky/{id}", (HttpContext c) => Interlocked.Increment(ref hits) == 1
            ? TestDownstream.WriteJsonAsync(c, "{}", StatusCodes.Status503ServiceUnavailable)
            : TestDownstream.WriteJsonAsync(c, """{"ok":true}""")));
        var config = new GatewayConfig()
            .Cluster("flaky", downstream.BaseAddress)
            .Resilience("flaky", r => r.Retry(maxRetryAttempts: 2, delay: TimeSpan.FromMilliseconds(10)))
            .Aggregate(name, $"/{name}/{{id}}", a => a.Source("flaky", "flaky", "/flaky/{id}", required: true));
        var spans = new ExportedItems<Activity>();
        await using var gateway = await StartTracedAsync(config, spans, httpClientSpans: true);

        var answer = await gateway.GetAsync($"/{name}/1");

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        var trace = await TraceOfAsync(spans, name);
        var source = trace.Single(s => s.DisplayName == "source flaky");
        var retry = trace.Single(s => s.DisplayName == "attempt flaky");
        var calls = downstream.RequestsTo("/flaky/");
        Assert.Equal(2, calls.Count);
        Activity? first = null, second = null;
        await Poll.UntilAsync(
            () => (first = spans.Snapshot().FirstOrDefault(s => s.Source.Name == "System.Net.Http" && s.ParentSpanId == source.SpanId)) is not null
                && (second = spans.Snapshot().FirstOrDefault(s => s.Source.Name == "System.Net.Http" && s.ParentSpanId == retry.SpanId)) is not null,
            "an HttpClient span under the source and one under the retry");
        Assert.Equal($"00-{source.TraceId}-{first!.SpanId}-01", calls[0].Headers["traceparent"]);
        Assert.Equal($"00-{source.TraceId}-{second!.SpanId}-01", calls[1].Headers["traceparent"]);
    }

    // Hedged attempts run at once: the hedge has its span under the source's, with its own destination and outcome.
    [Fact]
    public async Task Aggregate_HedgeWins_TheHedgeHasItsSpanWithItsDestination()
    {
        var name = Unique("hedge");
        await using var hanging = await TestDownstream.StartAsync((app, d) => app.MapGet("/items/{id}", (HttpContext c) => d.HangAsync(c)));
        await using var answering = await TestDownstream.StartAsync((app, d) => app.MapGet("/items/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, """{"id":7}""")));
        var config = new GatewayConfig()
            .Cluster("items", ("a", hanging.BaseAddress), ("b", answering.BaseAddress))
            .LoadBalancing("items", "FirstAlphabetical")
            .Resilience("items", r => r.Hedging(TimeSpan.FromMilliseconds(100)))
            .Aggregate(name, $"/{name}/{{id}}", a => a.Source("item", "items", "/items/{id}", required: true, timeout: TimeSpan.FromSeconds(5)));
        var spans = new ExportedItems<Activity>();
        await using var gateway = await StartTracedAsync(config, spans);

        var answer = await gateway.GetAsync($"/{name}/7");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var source = (await TraceOfAsync(spans, name)).Single(s => s.DisplayName == "source item");
        // The first attempt is the source's own span: only the hedge has one of its own.
        Activity[] attempts = [];
        await Poll.UntilAsync(() => (attempts = [.. spans.Snapshot().Where(s => s.ParentSpanId == source.SpanId && s.DisplayName == "attempt items")]).Length == 1, "the hedge's span");
        var hedge = Assert.Single(attempts);
        Assert.Equal((object)2, hedge.GetTagItem("gateway.attempt.number"));
        Assert.Equal("b", hedge.GetTagItem("gateway.destination"));
        Assert.Equal("ok", hedge.GetTagItem("gateway.outcome"));
        Assert.Equal("b", source.GetTagItem("gateway.destination"));
    }

    [Fact]
    public async Task Aggregate_SourceTimesOutAndDatasetServes_SpansCarryErrorTypeAndCacheState()
    {
        var name = Unique("fail");
        var dataset = Unique("ds");
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/list", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "[1,2,3]"));
            app.MapGet("/slow/{id}", (HttpContext c) => d.HangAsync(c));
        });
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .CachedData(dataset, "users", "/list", TimeSpan.FromMinutes(5))
            .Aggregate(name, $"/{name}/{{id}}", a => a
                .CachedSource("list", dataset, required: true)
                .Source("slow", "users", "/slow/{id}", timeout: TimeSpan.FromMilliseconds(100)));
        var spans = new ExportedItems<Activity>();
        await using var gateway = await StartTracedAsync(config, spans);

        var answer = await Poll.UntilAsync(() => gateway.GetAsync($"/{name}/1"), a => a.StatusCode == HttpStatusCode.OK, "the dataset to load");

        Assert.Equal("timeout", answer.Outcome("slow"));
        var trace = await TraceOfAsync(spans, name, latest: true);
        var aggregate = trace.Single(s => s.DisplayName == $"aggregate {name}");
        Assert.Equal(false, aggregate.GetTagItem("gateway.complete"));
        var slow = trace.Single(s => s.DisplayName == "source slow");
        Assert.Equal("timeout", slow.GetTagItem("gateway.outcome"));
        Assert.Equal("timeout", slow.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, slow.Status);
        Assert.Equal(false, slow.GetTagItem("gateway.required"));
        var list = trace.Single(s => s.DisplayName == "source list");
        Assert.Equal(aggregate.SpanId, list.ParentSpanId);
        Assert.Equal("dataset", list.GetTagItem("gateway.cache"));
        Assert.Equal("fresh", list.GetTagItem("gateway.cache.state"));
        Assert.Equal(dataset, list.GetTagItem("gateway.dataset"));
        Assert.Equal("ok", list.GetTagItem("gateway.outcome"));

        // The dataset's refresh is a trace of its own; its call (no HttpClient span by default) carries the refresh span as parent.
        // The refresh span ends just after the copy it loaded is published: wait for it.
        Activity? refresh = null;
        await Poll.UntilAsync(() => (refresh = spans.Snapshot().FirstOrDefault(s => s.DisplayName == $"refresh {dataset}")) is not null, "the refresh span");
        Assert.Equal(default, refresh!.ParentSpanId);
        Assert.Equal("ok", refresh.GetTagItem("gateway.outcome"));
        Assert.Contains(downstream.RequestsTo("/list"), r => r.Headers.TryGetValue("traceparent", out var parent) && parent == $"00-{refresh.TraceId}-{refresh.SpanId}-01");
    }

    public static TheoryData<string> Paths => new() { "/traced/1", "/agg/1" };

    // A trace the client marked sampled, dropped by the gateway's sampler: nothing is recorded, yet the
    // downstream still gets the trace (with the gateway's own parent id and the "not sampled" flag).
    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Request_NotSampled_DownstreamStillGetsTraceparentInTheClientsTrace(string path)
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) => app.MapGet("/traced/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}")));
        var config = new GatewayConfig()
            .Cluster("traced", downstream.BaseAddress)
            .Route("traced", "traced", "/traced/{**rest}")
            .Aggregate("agg", "/agg/{id}", a => a.Source("traced", "traced", "/traced/{id}", required: true));
        // The standard variable, as a configuration key: the OpenTelemetry SDK reads it through IConfiguration.
        config.Root["OTEL_TRACES_SAMPLER"] = "always_off";
        var spans = new ExportedItems<Activity>();
        await using var gateway = await TestGateway.StartAsync(config, configureBuilder: b => b.Services.AddOpenTelemetry()
            .WithTracing(t => t.AddInMemoryExporter(spans)));
        var clientTraceId = ActivityTraceId.CreateRandom().ToHexString();

        var answer = await SendWithTraceparentAsync(gateway, path, $"00-{clientTraceId}-{ClientParentId}-01");

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        var headers = Assert.Single(downstream.Requests).Headers;
        Assert.True(headers.TryGetValue("traceparent", out var traceparent), "the downstream received no traceparent");
        var parts = traceparent.Split('-');
        Assert.Equal(4, parts.Length);
        Assert.Equal(clientTraceId, parts[1]);
        Assert.NotEqual(ClientParentId, parts[2]);
        Assert.Equal("00", parts[3]);
        Assert.DoesNotContain(spans.Snapshot(), s => s.TraceId.ToHexString() == clientTraceId);
    }

    // Sampled: the downstream's parent is the gateway's HttpClient span under YARP's forwarder span for a route,
    // the source's span (under the aggregate's) for an aggregate, all in the client's trace.
    [Theory]
    [InlineData("/traced/1", "System.Net.Http", "Yarp.ReverseProxy")]
    [InlineData("/agg/1", "Gateway", "Gateway")]
    public async Task Request_Sampled_DownstreamsParentIsTheGatewaysSpanInTheClientsTrace(string path, string toldSource, string parentSource)
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) => app.MapGet("/traced/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}")));
        var config = new GatewayConfig()
            .Cluster("traced", downstream.BaseAddress)
            .Route("traced", "traced", "/traced/{**rest}")
            .Aggregate("agg", "/agg/{id}", a => a.Source("traced", "traced", "/traced/{id}", required: true));
        var spans = new ExportedItems<Activity>();
        await using var gateway = await StartTracedAsync(config, spans);
        var clientTraceId = ActivityTraceId.CreateRandom().ToHexString();

        var answer = await SendWithTraceparentAsync(gateway, path, $"00-{clientTraceId}-{ClientParentId}-01");

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        var parts = Assert.Single(downstream.Requests).Headers["traceparent"].Split('-');
        Assert.Equal(clientTraceId, parts[1]);
        Assert.Equal("01", parts[3]);
        Activity? client = null;
        await Poll.UntilAsync(() => (client = spans.Snapshot().FirstOrDefault(s => s.SpanId.ToHexString() == parts[2])) is not null, "the span the downstream was told about");
        Assert.Equal(toldSource, client!.Source.Name);
        Assert.Equal(clientTraceId, client.TraceId.ToHexString());
        // YARP's forwarder span ends after the body is copied, which may be after the client has its answer.
        Activity? parent = null;
        await Poll.UntilAsync(() => (parent = spans.Snapshot().SingleOrDefault(s => s.SpanId == client.ParentSpanId)) is not null, "the HttpClient span's parent");
        Assert.Equal(parentSource, parent!.Source.Name);
    }

    // The shipped sampler: parent-based, one trace in ten where the client's request carries no decision.
    [Fact]
    public async Task Aggregate_DefaultSampler_RecordsAboutOneTraceInTen()
    {
        const int Requests = 200;
        var name = Unique("ratio");
        await using var downstream = await TestDownstream.StartAsync((app, d) => app.MapGet("/traced/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}")));
        var config = new GatewayConfig()
            .Cluster("traced", downstream.BaseAddress)
            .Aggregate(name, $"/{name}/{{id}}", a => a.Source("traced", "traced", "/traced/{id}", required: true));
        var spans = new ExportedItems<Activity>();
        await using var gateway = await TestGateway.StartAsync(config, configureBuilder: b => b.Services.AddOpenTelemetry().WithTracing(t => t.AddInMemoryExporter(spans)));

        for (var i = 0; i < Requests; i++)
        {
            // A client of its own that sends no traceparent: each request is a trace of its own, the gateway's to sample.
            var answer = await SendWithTraceparentAsync(gateway, $"/{name}/{i}", traceparent: null);
            Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        }

        // Binomial(200, 0.1): 20 expected; below 3 or above 60 is far outside chance (and 200 would be the SDK's default).
        var recorded = 0;
        await Poll.UntilAsync(() => (recorded = spans.Snapshot().Count(s => s.DisplayName == $"aggregate {name}")) >= 3, "some sampled aggregate spans");
        Assert.InRange(recorded, 3, 60);
        Assert.Equal(recorded, spans.Snapshot().Count(s => s.DisplayName == "source traced" && s.GetTagItem("gateway.aggregate") is string a && a == name));
    }

    // Parent-based: a client's sampled trace is recorded even at ratio 0, and an unsampled one never at ratio 1.
    [Theory]
    [InlineData(0.0, "01", true)]
    [InlineData(1.0, "00", false)]
    [InlineData(0.0, null, false)]
    public async Task Aggregate_SamplingRatio_FollowsTheClientsDecisionElseTheRatio(double ratio, string? clientFlags, bool recorded)
    {
        var name = Unique("parent");
        await using var downstream = await TestDownstream.StartAsync((app, d) => app.MapGet("/traced/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}")));
        var config = new GatewayConfig()
            .Cluster("traced", downstream.BaseAddress)
            .Aggregate(name, $"/{name}/{{id}}", a => a.Source("traced", "traced", "/traced/{id}", required: true));
        config.Gateway["Telemetry"] = new JsonObject { ["SamplingRatio"] = ratio };
        var spans = new ExportedItems<Activity>();
        await using var gateway = await TestGateway.StartAsync(config, configureBuilder: b => b.Services.AddOpenTelemetry().WithTracing(t => t.AddInMemoryExporter(spans)));

        var answer = await SendWithTraceparentAsync(gateway, $"/{name}/1", clientFlags is null ? null : $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ClientParentId}-{clientFlags}");
        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());

        if (recorded)
        {
            await TraceOfAsync(spans, name);
        }
        else
        {
            // The request span (ASP.NET Core's) ends after the answer: give the exporter that time, then look.
            await Task.Delay(TimeSpan.FromMilliseconds(300));
            Assert.DoesNotContain(spans.Snapshot(), s => s.DisplayName == $"aggregate {name}");
        }

        // The downstream is in the client's trace either way.
        Assert.True(Assert.Single(downstream.Requests).Headers.ContainsKey("traceparent"));
    }

    // With tracing on, the client's trace id carries through the aggregate to the downstream.
    [Fact]
    public async Task Aggregate_ClientSendsTraceparent_AggregateSpanAndDownstreamAreInTheClientsTrace()
    {
        var name = Unique("client");
        await using var downstream = await TestDownstream.StartAsync((app, d) => app.MapGet("/traced/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}")));
        var config = new GatewayConfig()
            .Cluster("traced", downstream.BaseAddress)
            .Aggregate(name, $"/{name}/{{id}}", a => a.Source("traced", "traced", "/traced/{id}", required: true));
        var spans = new ExportedItems<Activity>();
        await using var gateway = await StartTracedAsync(config, spans);

        var answer = await SendWithTraceparentAsync(gateway, $"/{name}/1", $"00-{ClientTraceId}-{ClientParentId}-01");

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        var trace = await TraceOfAsync(spans, name);
        Assert.Equal(ClientTraceId, trace[0].TraceId.ToHexString());
        var request0 = trace.Single(s => s.DisplayName == $"GET /{name}/{{id}}");
        Assert.Equal(ClientParentId, request0.ParentSpanId.ToHexString());
        var traceparent = Assert.Single(downstream.Requests).Headers["traceparent"];
        Assert.StartsWith($"00-{ClientTraceId}-", traceparent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Aggregate_OptionalSourceFails_LogRecordCarriesTheSourceSpan()
    {
        var name = Unique("log");
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/ok/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
            app.MapGet("/broken/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}", StatusCodes.Status500InternalServerError));
        });
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate(name, $"/{name}/{{id}}", a => a
                .Source("ok", "users", "/ok/{id}", required: true)
                .Source("broken", "users", "/broken/{id}"));
        // Every level of the aggregation's logs, whatever level the failure log is written at.
        config.Root["Logging"]!["LogLevel"]!["Gateway.Aggregation"] = "Trace";
        var spans = new ExportedItems<Activity>();
        var logs = new ExportedItems<LogRecord>();
        config.Gateway["Telemetry"] = new JsonObject { ["SamplingRatio"] = 1 };
        await using var gateway = await TestGateway.StartAsync(config, configureBuilder: b =>
        {
            b.Services.AddOpenTelemetry().WithTracing(t => t.AddInMemoryExporter(spans));
            b.Logging.AddOpenTelemetry(o => o.AddInMemoryExporter(logs));
        });

        var answer = await gateway.GetAsync($"/{name}/1");

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        var trace = await TraceOfAsync(spans, name);
        var broken = trace.Single(s => s.DisplayName == "source broken");
        Assert.Equal("http_status", broken.GetTagItem("error.type"));
        var record = logs.Snapshot().First(r => r.CategoryName == "Gateway.Aggregation.FanOutExecutor" && r.TraceId == broken.TraceId);
        Assert.Equal(broken.SpanId, record.SpanId);
        Assert.Contains("broken", record.FormattedMessage ?? "", StringComparison.Ordinal);
    }

    // The test process is traced too (the tracer provider listens to every HttpClient in it): a client of its
    // own that propagates nothing, so that the gateway gets exactly the traceparent the test wrote.
    [Fact]
    public async Task Aggregate_ClientLeavesBeforeTheAnswer_SpanSays499NotTheUnwritten200()
    {
        var name = Unique("left");
        await using var downstream = await TestDownstream.StartAsync((app, d) => app.MapGet("/hang/{id}", (HttpContext c) => d.HangAsync(c)));
        var config = new GatewayConfig()
            .Cluster("hang", downstream.BaseAddress)
            .Aggregate(name, $"/{name}/{{id}}", a => a.Source("hang", "hang", "/hang/{id}", required: true, timeout: TimeSpan.FromSeconds(20)), timeout: TimeSpan.FromSeconds(20));
        var spans = new ExportedItems<Activity>();
        await using var gateway = await StartTracedAsync(config, spans);

        using (var leaving = new CancellationTokenSource())
        {
            var call = gateway.Client.GetAsync(new Uri($"/{name}/1", UriKind.Relative), leaving.Token);
            await downstream.WaitForRequestAsync($"/hang/1");
            await leaving.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        }

        var trace = await TraceOfAsync(spans, name);
        var aggregate = trace.Single(s => s.DisplayName == $"aggregate {name}");
        Assert.Equal((object)499, aggregate.GetTagItem("http.response.status_code"));
    }

    // OpenTelemetry's ASP.NET Core instrumentation takes the client's baggage, and its HttpClient instrumentation
    // writes baggage and tracestate into outgoing requests with its own propagator: with tracing on, the client's
    // still must not reach a downstream, on an aggregate's call or a pass-through route.
    [Theory]
    [InlineData("agg")]
    [InlineData("route")]
    public async Task TracingOn_ClientSendsBaggageAndTracestate_NeitherReachesTheDownstream(string kind)
    {
        var name = Unique("bag");
        await using var downstream = await TestDownstream.StartAsync((app, d) => app.MapGet("/traced/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}")));
        var config = new GatewayConfig()
            .Cluster("traced", downstream.BaseAddress)
            .Aggregate(name, $"/{name}/{{id}}", a => a.Source("traced", "traced", "/traced/{id}", required: true))
            .PrefixRoute("traced", "traced", $"/{name}-proxy");
        var spans = new ExportedItems<Activity>();
        await using var gateway = await StartTracedAsync(config, spans);

        var answer = await SendWithTraceparentAsync(gateway, kind == "agg" ? $"/{name}/1" : $"/{name}-proxy/traced/1", $"00-{ClientTraceId}-{ClientParentId}-01",
            ("tracestate", "vendor=secret"), ("baggage", "user=alice,tenant=t1"));

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        var headers = Assert.Single(downstream.Requests).Headers;
        Assert.StartsWith($"00-{ClientTraceId}-", headers["traceparent"], StringComparison.Ordinal);
        Assert.False(headers.ContainsKey("tracestate"), headers.GetValueOrDefault("tracestate"));
        Assert.False(headers.ContainsKey("baggage"), headers.GetValueOrDefault("baggage"));
    }

    private static async Task<AggregateAnswer> SendWithTraceparentAsync(TestGateway gateway, string path, string? traceparent, params (string Name, string Value)[] headers)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, ActivityHeadersPropagator = null }) { BaseAddress = gateway.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (traceparent is not null)
        {
            request.Headers.TryAddWithoutValidation("traceparent", traceparent);
        }

        foreach (var (header, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }

        using var response = await client.SendAsync(request);
        return new AggregateAnswer(response, await response.Content.ReadAsStringAsync(), TimeSpan.Zero);
    }

    /// <summary>The gateway with every trace recorded (its default records one in ten) into <paramref name="spans"/>.</summary>
    private static Task<TestGateway> StartTracedAsync(GatewayConfig config, ExportedItems<Activity> spans, bool httpClientSpans = false)
    {
        config.Gateway["Telemetry"] = new JsonObject { ["SamplingRatio"] = 1, ["HttpClientSpans"] = httpClientSpans };
        return TestGateway.StartAsync(config, configureBuilder: b => b.Services.AddOpenTelemetry().WithTracing(t => t.AddInMemoryExporter(spans)));
    }

    private static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The spans of the (first, or latest) trace of aggregate <paramref name="name"/>, once its request span has ended too.</summary>
    private static async Task<Activity[]> TraceOfAsync(ExportedItems<Activity> spans, string name, bool latest = false)
    {
        Activity? aggregate = null;
        await Poll.UntilAsync(
            () =>
            {
                var all = spans.Snapshot();
                var candidates = all.Where(s => s.DisplayName == $"aggregate {name}").ToArray();
                aggregate = latest ? candidates.LastOrDefault() : candidates.FirstOrDefault();
                return aggregate is not null && all.Any(s => s.SpanId == aggregate.ParentSpanId);
            },
            $"the spans of aggregate {name}");
        return [.. spans.Snapshot().Where(s => s.TraceId == aggregate!.TraceId)];
    }
}
