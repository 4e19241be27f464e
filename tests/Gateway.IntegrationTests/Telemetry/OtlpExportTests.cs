using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Gateway.IntegrationTests.Telemetry;

/// <summary>
/// With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set (here in the configuration file, which the standard variables
/// feed too), the gateway exports traces, metrics and logs over OTLP to that endpoint, with the other standard
/// <c>OTEL_*</c> settings (protocol, batch delays) applied. A real Kestrel endpoint plays the collector.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class OtlpExportTests
{
    [Fact]
    public async Task Gateway_OtlpEndpointSet_ExportsTracesMetricsAndLogsThere()
    {
        var name = "otlp" + Guid.NewGuid().ToString("N")[..8];
        await using var collector = await TestDownstream.StartAsync((app, d) =>
        {
            foreach (var signal in new[] { "traces", "metrics", "logs" })
            {
                app.MapPost($"/v1/{signal}", (HttpContext c) => Results.Ok());
            }

            app.MapGet("/ok/{id}", (HttpContext c) => TestDownstream.WriteJsonAsync(c, "{}"));
        });
        var config = new GatewayConfig()
            .Cluster("users", collector.BaseAddress)
            .Aggregate(name, $"/{name}/{{id}}", a => a.Source("ok", "users", "/ok/{id}", required: true));
        config.Root["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseAddress.ToString().TrimEnd('/');
        config.Root["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        config.Root["OTEL_BSP_SCHEDULE_DELAY"] = "100";
        config.Root["OTEL_BLRP_SCHEDULE_DELAY"] = "100";
        config.Root["OTEL_METRIC_EXPORT_INTERVAL"] = "200";
        config.Root["Logging"]!["LogLevel"]!["Gateway"] = "Information";
        // The test host clears the logging providers (the gateway's OpenTelemetry one with them) before adding its
        // own: put OpenTelemetry's back; the OTLP exporter is what the gateway configured for it.
        await using var gateway = await TestGateway.StartAsync(config, configureBuilder: b => b.Logging.AddOpenTelemetry());

        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync($"/{name}/1")).StatusCode);

        foreach (var signal in new[] { "traces", "metrics", "logs" })
        {
            var export = await collector.WaitForRequestAsync(r => r.Method == "POST" && r.Path == $"/v1/{signal}");
            Assert.Equal("application/x-protobuf", export.Headers["Content-Type"]);
        }
    }
}
