using System.Net;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace Gateway.IntegrationTests.Telemetry;

/// <summary>
/// The <c>Gateway</c> meter's instruments, read with OpenTelemetry's in-memory exporter from the real gateway,
/// and the Prometheus endpoint. Cluster, dataset and aggregate names are unique per test: every gateway in the
/// process reports on the one static meter.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class MetricsTests
{
    [Fact]
    public async Task Aggregate_OkFailingAndCachedSources_RecordsDurationsDownstreamStateAndCache()
    {
        var name = Unique("agg");
        var plain = Unique("plain");
        var guarded = Unique("guarded");
        var good = Unique("good");
        var bad = Unique("bad");
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/ok/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
            app.MapGet("/broken/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}", StatusCodes.Status500InternalServerError));
            app.MapGet("/list", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "[1]"));
            app.MapGet("/nolist", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}", StatusCodes.Status500InternalServerError));
        });
        var config = new GatewayConfig()
            .Cluster(plain, downstream.BaseAddress)
            .Cluster(guarded, downstream.BaseAddress)
            .Resilience(guarded, r => r.CircuitBreaker(failureRatio: 0.9, minimumThroughput: 100, breakDuration: TimeSpan.FromSeconds(5)))
            .CachedData(good, plain, "/list", TimeSpan.FromMinutes(5))
            .CachedData(bad, plain, "/nolist", TimeSpan.FromMinutes(5))
            .Aggregate(name, $"/{name}/{{id}}", a => a
                .Source("ok", plain, "/ok/{id}", required: true)
                .Source("broken", guarded, "/broken/{id}")
                .CachedSource("listed", good)
                .CachedSource("missing", bad));
        config.Gateway["Telemetry"] = new JsonObject { ["HttpMetrics"] = true };
        var metrics = new ExportedItems<MetricSnapshot>();
        await using var gateway = await TestGateway.StartAsync(config, configureBuilder: b => b.Services.AddOpenTelemetry().WithMetrics(m => m.AddInMemoryExporter(metrics)));

        var answer = await Poll.UntilAsync(() => gateway.GetAsync($"/{name}/1"), a => a.Outcome("listed") == "ok", "the dataset to load");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        gateway.Services.GetRequiredService<MeterProvider>().ForceFlush();

        Assert.Contains(Points(metrics, "gateway.aggregate.duration"), p => Has(p, ("gateway.aggregate", name), ("http.response.status_code", 200)) && p.GetHistogramCount() >= 1);
        var sources = Points(metrics, "gateway.source.duration");
        Assert.Contains(sources, p => Has(p, ("gateway.aggregate", name), ("gateway.source", "ok"), ("gateway.outcome", "ok")));
        Assert.Contains(sources, p => Has(p, ("gateway.aggregate", name), ("gateway.source", "broken"), ("gateway.outcome", "http_status")));
        Assert.Contains(sources, p => Has(p, ("gateway.aggregate", name), ("gateway.source", "missing"), ("gateway.outcome", "unavailable")));

        Assert.Equal(0, Single(metrics, "gateway.downstream.in_flight", ("gateway.cluster", plain)).GetSumLong());
        Assert.Equal(0, Single(metrics, "gateway.downstream.queued", ("gateway.cluster", guarded)).GetSumLong());
        Assert.Equal(0, Single(metrics, "gateway.downstream.rejected", ("gateway.cluster", plain)).GetSumLong());
        Assert.Equal(0, Single(metrics, "gateway.downstream.breaker.state", ("gateway.cluster", guarded)).GetGaugeLastValueLong());
        Assert.DoesNotContain(Points(metrics, "gateway.downstream.breaker.state"), p => Has(p, ("gateway.cluster", plain)));

        Assert.True(Single(metrics, "gateway.cache.hits", ("gateway.aggregate", name), ("gateway.source", "listed"), ("gateway.cache", "dataset"), ("gateway.cache.state", "fresh")).GetSumLong() >= 1);
        Assert.True(Single(metrics, "gateway.cache.misses", ("gateway.aggregate", name), ("gateway.source", "missing"), ("gateway.cache", "dataset")).GetSumLong() >= 1);
        Assert.True(Single(metrics, "gateway.cache.age", ("gateway.aggregate", name), ("gateway.source", "listed")).GetHistogramCount() >= 1);
        Assert.True(Single(metrics, "gateway.cached_data.refreshes", ("gateway.dataset", good), ("gateway.outcome", "ok")).GetSumLong() >= 1);
        Assert.True(Single(metrics, "gateway.cached_data.refreshes", ("gateway.dataset", bad), ("gateway.outcome", "http_status")).GetSumLong() >= 1);
        Assert.InRange(Single(metrics, "gateway.cached_data.age", ("gateway.dataset", good)).GetGaugeLastValueDouble(), 0, 60_000);
        Assert.DoesNotContain(Points(metrics, "gateway.cached_data.age"), p => Has(p, ("gateway.dataset", bad)));

        // ASP.NET Core's and HttpClient's (Gateway:Telemetry:HttpMetrics) and the runtime's own (the thread pool among them).
        var names = metrics.Snapshot().Select(m => m.Name).ToHashSet();
        Assert.Contains("http.server.request.duration", names);
        Assert.Contains("http.client.request.duration", names);
        Assert.Contains("dotnet.thread_pool.thread.count", names);
        Assert.Contains("dotnet.thread_pool.queue.length", names);
    }

    [Fact]
    public async Task Aggregate_RefusedByItsRateLimitOrShed_RecordedWithTheRefusalsStatus()
    {
        var limited = Unique("limited");
        var crowded = Unique("crowded");
        var plain = Unique("plain");
        var release = new Signal();
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/ok/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
            app.MapGet("/hold/{id}", d.HeldJson(release, limit: TimeSpan.FromSeconds(15)));
        });
        var config = new GatewayConfig()
            .Cluster(plain, downstream.BaseAddress)
            .Downstream(plain, timeout: TimeSpan.FromSeconds(15))
            .Aggregate(limited, $"/{limited}/{{id}}", a => a.Source("ok", plain, "/ok/{id}", required: true))
            .Aggregate(crowded, $"/{crowded}/{{id}}", a => a.Source("held", plain, "/hold/{id}", required: true), timeout: TimeSpan.FromSeconds(20));
        config.Gateway["Aggregates"]![limited]!["RateLimit"] = new JsonObject { ["PermitLimit"] = 1, ["Window"] = "1m" };
        // Two slots: the rate-limited requests never race a slot still being given back by the one before.
        config.Gateway["RateLimiting"] = new JsonObject { ["MaxConcurrentRequests"] = 2 };
        var metrics = new ExportedItems<MetricSnapshot>();
        await using var gateway = await TestGateway.StartAsync(config, configureBuilder: b => b.Services.AddOpenTelemetry().WithMetrics(m => m.AddInMemoryExporter(metrics)));

        try
        {
            Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync($"/{limited}/1")).StatusCode);
            Assert.Equal(HttpStatusCode.TooManyRequests, (await gateway.GetAsync($"/{limited}/2")).StatusCode);
            var held = new[] { gateway.GetAsync($"/{crowded}/held1"), gateway.GetAsync($"/{crowded}/held2") };
            await downstream.WaitForRequestAsync("/hold/held1");
            await downstream.WaitForRequestAsync("/hold/held2");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await gateway.GetAsync($"/{crowded}/shed")).StatusCode);
            release.Set();
            Assert.All(await Task.WhenAll(held).WaitAsync(Signal.Patience), a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        }
        finally
        {
            release.Set();
        }

        gateway.Services.GetRequiredService<MeterProvider>().ForceFlush();
        Assert.Equal(1, Single(metrics, "gateway.aggregate.duration", ("gateway.aggregate", limited), ("http.response.status_code", 200)).GetHistogramCount());
        Assert.Equal(1, Single(metrics, "gateway.aggregate.duration", ("gateway.aggregate", limited), ("http.response.status_code", 429)).GetHistogramCount());
        Assert.Equal(1, Single(metrics, "gateway.aggregate.duration", ("gateway.aggregate", crowded), ("http.response.status_code", 503)).GetHistogramCount());
        Assert.Equal(2, Single(metrics, "gateway.aggregate.duration", ("gateway.aggregate", crowded), ("http.response.status_code", 200)).GetHistogramCount());
    }

    [Fact]
    public async Task HttpMetrics_Unset_NoAspNetCoreOrHttpClientMeters_GatewayAndRuntimeStill()
    {
        var name = Unique("agg");
        var plain = Unique("plain");
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/ok/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}")));
        var config = new GatewayConfig()
            .Cluster(plain, downstream.BaseAddress)
            .Aggregate(name, $"/{name}/{{id}}", a => a.Source("ok", plain, "/ok/{id}", required: true));
        var metrics = new ExportedItems<MetricSnapshot>();
        await using var gateway = await TestGateway.StartAsync(config, configureBuilder: b => b.Services.AddOpenTelemetry().WithMetrics(m => m.AddInMemoryExporter(metrics)));

        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync($"/{name}/1")).StatusCode);
        gateway.Services.GetRequiredService<MeterProvider>().ForceFlush();

        var names = metrics.Snapshot().Select(m => m.Name).ToHashSet();
        Assert.Contains("gateway.aggregate.duration", names);
        Assert.Contains("dotnet.thread_pool.thread.count", names);
        Assert.DoesNotContain("http.server.request.duration", names);
        Assert.DoesNotContain("http.client.request.duration", names);
    }

    [Fact]
    public async Task Downstream_AtItsLimitAndFailing_InFlightRejectedAndOpenBreakerAreObserved()
    {
        var name = Unique("agg");
        var held = Unique("held");
        var failing = Unique("failing");
        var release = new Signal();
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
        {
            app.MapGet("/hold/{id}", d.HeldJson(release));
            app.MapGet("/fail/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}", StatusCodes.Status500InternalServerError));
        });
        var config = new GatewayConfig()
            .Cluster(held, downstream.BaseAddress)
            .Cluster(failing, downstream.BaseAddress)
            .Downstream(held, maxConcurrency: 1, maxQueue: 0)
            .Resilience(failing, r => r.CircuitBreaker(failureRatio: 0.5, minimumThroughput: 2, breakDuration: TimeSpan.FromSeconds(30)))
            .Aggregate(name, $"/{name}/{{id}}", a => a.Source("held", held, "/hold/{id}", timeout: TimeSpan.FromSeconds(4)))
            .Aggregate(name + "f", $"/{name}f/{{id}}", a => a.Source("failing", failing, "/fail/{id}", required: true));
        var metrics = new ExportedItems<MetricSnapshot>();
        await using var gateway = await TestGateway.StartAsync(config, configureBuilder: b => b.Services.AddOpenTelemetry().WithMetrics(m => m.AddInMemoryExporter(metrics)));

        var first = gateway.GetAsync($"/{name}/1");
        await downstream.WaitForRequestAsync("/hold/1");
        var second = await gateway.GetAsync($"/{name}/2");
        Assert.Equal("rejected", second.ErrorKind("held"));
        for (var i = 0; i < 20 && (await gateway.GetAsync($"/{name}f/{i}")).Body.Contains("circuit_open", StringComparison.Ordinal) is false; i++)
        {
        }

        var provider = gateway.Services.GetRequiredService<MeterProvider>();
        provider.ForceFlush();
        release.Set();
        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);

        Assert.Equal(1, Single(metrics, "gateway.downstream.in_flight", ("gateway.cluster", held)).GetSumLong());
        Assert.Equal(1, Single(metrics, "gateway.downstream.rejected", ("gateway.cluster", held)).GetSumLong());
        Assert.Equal(1, Single(metrics, "gateway.downstream.breaker.state", ("gateway.cluster", failing)).GetGaugeLastValueLong());

        provider.ForceFlush();
        Assert.Equal(0, Single(metrics, "gateway.downstream.in_flight", ("gateway.cluster", held)).GetSumLong());
    }

    [Fact]
    public async Task Metrics_PrometheusOn_ServesTheGatewaysInstrumentsAsPrometheusText()
    {
        var name = Unique("prom");
        var cluster = Unique("c");
        await using var downstream = await TestDownstream.StartAsync((app, d) => app.MapGet("/ok/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}")));
        var config = new GatewayConfig()
            .Cluster(cluster, downstream.BaseAddress)
            .Aggregate(name, $"/{name}/{{id}}", a => a.Source("ok", cluster, "/ok/{id}", required: true));
        config.Gateway["Telemetry"] = new JsonObject { ["Prometheus"] = true };
        await using var gateway = await TestGateway.StartAsync(config);

        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync($"/{name}/1")).StatusCode);
        using var scrape = await gateway.Client.GetAsync(new Uri("/metrics", UriKind.Relative));
        var text = await scrape.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.StartsWith("text/plain", scrape.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var lines = text.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("gateway_aggregate_duration_milliseconds_count{", StringComparison.Ordinal)
            && l.Contains($"gateway_aggregate=\"{name}\"", StringComparison.Ordinal) && l.Contains("http_response_status_code=\"200\"", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("gateway_source_duration_milliseconds_bucket{", StringComparison.Ordinal)
            && l.Contains($"gateway_aggregate=\"{name}\"", StringComparison.Ordinal) && l.Contains("gateway_source=\"ok\"", StringComparison.Ordinal) && l.Contains("gateway_outcome=\"ok\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("gateway_downstream_in_flight{", StringComparison.Ordinal) && l.Contains($"gateway_cluster=\"{cluster}\"", StringComparison.Ordinal));
        Assert.Contains("dotnet_thread_pool_thread_count", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_PrometheusOff_MetricsIsNotFound()
    {
        var name = Unique("noprom");
        await using var downstream = await TestDownstream.StartAsync((app, d) => app.MapGet("/ok/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}")));
        var config = new GatewayConfig()
            .Cluster("users", downstream.BaseAddress)
            .Aggregate(name, $"/{name}/{{id}}", a => a.Source("ok", "users", "/ok/{id}", required: true));
        config.Gateway["Telemetry"] = new JsonObject { ["Prometheus"] = false };
        await using var gateway = await TestGateway.StartAsync(config);

        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync($"/{name}/1")).StatusCode);
        using var scrape = await gateway.Client.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, scrape.StatusCode);
    }

    [Fact]
    public async Task Startup_PrometheusOnAndAnAggregateAtMetrics_FailsNamingBothKeys()
    {
        var config = new GatewayConfig()
            .Cluster("users", new Uri("http://127.0.0.1:9/"))
            .Aggregate("metrics", "/metrics", a => a.Source("ok", "users", "/ok", required: true));
        config.Gateway["Telemetry"] = new JsonObject { ["Prometheus"] = true };

        var error = await Assert.ThrowsAsync<GatewayConfigurationException>(() => TestGateway.StartAsync(config));

        Assert.Contains(error.Errors, e => e.Contains("Gateway:Aggregates:metrics", StringComparison.Ordinal) && e.Contains("Gateway:Telemetry:Prometheus", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Startup_PrometheusIsNotABoolean_FailsNamingTheKey()
    {
        var config = new GatewayConfig()
            .Cluster("users", new Uri("http://127.0.0.1:9/"))
            .Aggregate("a", "/a", a => a.Source("ok", "users", "/ok", required: true));
        config.Gateway["Telemetry"] = new JsonObject { ["Prometheus"] = "sometimes" };

        var error = await Assert.ThrowsAsync<GatewayConfigurationException>(() => TestGateway.StartAsync(config));

        Assert.Contains(error.Errors, e => e.StartsWith("Gateway:Telemetry:Prometheus", StringComparison.Ordinal));
    }

    private static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The points of the latest export of <paramref name="name"/>.</summary>
    private static List<MetricPoint> Points(ExportedItems<MetricSnapshot> metrics, string name)
    {
        var snapshot = metrics.Snapshot().LastOrDefault(m => m.Name == name);
        Assert.True(snapshot is not null, $"no metric {name} was exported");
        return [.. snapshot.MetricPoints];
    }

    private static MetricPoint Single(ExportedItems<MetricSnapshot> metrics, string name, params (string Key, object Value)[] tags)
    {
        var points = Points(metrics, name).Where(p => Has(p, tags)).ToList();
        Assert.True(points.Count == 1, $"{points.Count} points of {name} with {string.Join(", ", tags)}");
        return points[0];
    }

    private static bool Has(MetricPoint point, params (string Key, object Value)[] tags)
    {
        foreach (var (key, value) in tags)
        {
            var found = false;
            foreach (var tag in point.Tags)
            {
                if (tag.Key == key && Equals(tag.Value?.ToString(), value.ToString()))
                {
                    found = true;
                    break;
                }
            }

            if (!found)
            {
                return false;
            }
        }

        return true;
    }
}
