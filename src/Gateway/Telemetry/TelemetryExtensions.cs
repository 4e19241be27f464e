using Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Telemetry;

internal static class TelemetryExtensions
{
    /// <summary>The Prometheus scrape endpoint, mapped when <c>Gateway:Telemetry:Prometheus</c> is true.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Service name on every span, metric and log record unless <c>OTEL_SERVICE_NAME</c> says otherwise.</summary>
    public const string ServiceName = "gateway";

    /// <summary>
    /// OpenTelemetry. Whatever providers get built (by this method, or by the host adding an exporter of its
    /// own with <c>AddOpenTelemetry()</c>) trace ASP.NET Core, HttpClient, YARP and the <c>Gateway</c> source,
    /// and meter the runtime (GC, thread pool) and the <c>Gateway</c> meter (ASP.NET Core and HttpClient too with
    /// <c>Gateway:Telemetry:HttpMetrics</c>). Providers
    /// are built only when something exports: OTLP for traces, metrics and logs when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (every standard <c>OTEL_*</c> variable applies), Prometheus
    /// for metrics when <c>Gateway:Telemetry:Prometheus</c> is true. With neither, no span is created and no
    /// instrument records: the hot path pays a check.
    /// </summary>
    public static WebApplicationBuilder AddGatewayTelemetry(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing
            .AddSource(GatewayTelemetry.Name)
            .AddSource(YarpSource)
            .AddAspNetCoreInstrumentation(o => o.Filter = IsTraced)
            .AddHttpClientInstrumentation());
        if (string.IsNullOrWhiteSpace(configuration[SamplerVariable]))
        {
            // OpenTelemetry's own default records every trace: on a gateway that is every request's five spans or
            // more. Parent-based, so that a trace the client's caller sampled is recorded whole.
            services.ConfigureOpenTelemetryTracerProvider((provider, tracing) => tracing.SetSampler(new ParentBasedSampler(
                new TraceIdRatioBasedSampler(Math.Clamp(provider.GetRequiredService<IOptions<GatewayOptions>>().Value.Telemetry.SamplingRatio, 0, 1)))));
        }

        var httpMetrics = bool.TryParse(configuration[HttpMetricsKey], out var meterHttp) && meterHttp;
        services.ConfigureOpenTelemetryMeterProvider(metrics =>
        {
            metrics.AddMeter(GatewayTelemetry.Name).AddRuntimeInstrumentation();
            if (httpMetrics)
            {
                // Some twenty measurements per aggregate request, each aggregated by its tag set: opt-in.
                metrics.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation();
            }
        });
        services.Configure<OpenTelemetryLoggerOptions>(o =>
        {
            // The request's scopes (X-Request-Id among them) and the rendered message travel with each record.
            o.IncludeScopes = true;
            o.IncludeFormattedMessage = true;
        });
        services.AddMetrics();
        services.TryAddSingleton<GatewayMetrics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IReservedEndpoints, ScrapeEndpoint>());

        var otlp = OtlpEndpointKeys.Any(key => !string.IsNullOrWhiteSpace(configuration[key]));
        var prometheus = bool.TryParse(configuration[PrometheusKey], out var on) && on;
        if (!otlp && !prometheus)
        {
            return builder;
        }

        var openTelemetry = services.AddOpenTelemetry();
        if (string.IsNullOrWhiteSpace(configuration["OTEL_SERVICE_NAME"]))
        {
            openTelemetry.ConfigureResource(resource => resource.AddService(ServiceName));
        }

        openTelemetry.WithMetrics();
        if (otlp)
        {
            openTelemetry.WithTracing();
            openTelemetry.WithLogging();
            openTelemetry.UseOtlpExporter();
        }

        if (prometheus)
        {
            openTelemetry.WithMetrics(metrics => metrics.AddPrometheusExporter());
        }

        return builder;
    }

    /// <summary>
    /// Maps <c>/metrics</c> (Prometheus text format) when <c>Gateway:Telemetry:Prometheus</c> is true; without
    /// it the path is free (404, or an aggregate's). The endpoint is exempt from inbound rate limiting and
    /// absent from the OpenAPI document; it is not traced.
    /// </summary>
    public static IEndpointRouteBuilder MapGatewayTelemetry(this IEndpointRouteBuilder endpoints)
    {
        if (endpoints.ServiceProvider.GetRequiredService<IOptions<GatewayOptions>>().Value.Telemetry.Prometheus)
        {
            endpoints.MapPrometheusScrapingEndpoint(MetricsPath).DisableRateLimiting().ExcludeFromDescription();
        }

        return endpoints;
    }

    internal const string PrometheusKey = "Gateway:Telemetry:Prometheus";

    internal const string HttpMetricsKey = "Gateway:Telemetry:HttpMetrics";

    private const string YarpSource = "Yarp.ReverseProxy";

    // Set, it names the SDK's sampler (with OTEL_TRACES_SAMPLER_ARG), which then replaces the gateway's.
    private const string SamplerVariable = "OTEL_TRACES_SAMPLER";

    private static readonly string[] OtlpEndpointKeys =
        ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"];

    // Scrapes and probes every few seconds would bury the requests people look for.
    private static bool IsTraced(HttpContext context) =>
        !context.Request.Path.StartsWithSegments(MetricsPath, StringComparison.OrdinalIgnoreCase)
        && !context.Request.Path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase);

    private sealed class ScrapeEndpoint : IReservedEndpoints
    {
        public IEnumerable<ReservedEndpoint> Reserve(GatewayOptions options) =>
            options.Telemetry.Prometheus ? [new(MetricsPath, null, "Gateway:Telemetry:Prometheus")] : [];
    }
}
