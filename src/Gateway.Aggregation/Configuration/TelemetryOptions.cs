using System.ComponentModel.DataAnnotations;

namespace Gateway.Configuration;

/// <summary>What the gateway exposes of its telemetry itself (<c>Gateway:Telemetry</c>); OTLP export follows the standard <c>OTEL_*</c> variables.</summary>
public sealed record TelemetryOptions
{
    /// <summary>Serves the metrics in Prometheus text format at <c>/metrics</c>.</summary>
    /// <value>Defaults to false.</value>
    public bool Prometheus { get; init; }

    /// <summary>
    /// Also meters ASP.NET Core (<c>http.server.*</c>, Kestrel, routing) and HttpClient (<c>http.client.*</c>). Off by
    /// default: on the benchmark they cost about as much aggregate throughput as everything else together, and the
    /// <c>Gateway</c> meter already times aggregates and sources.
    /// </summary>
    /// <value>Defaults to false.</value>
    public bool HttpMetrics { get; init; }

    /// <summary>
    /// The share of traces recorded where the client's request carries no sampling decision: the gateway samples
    /// with OpenTelemetry's parent-based trace-id ratio sampler (a sampled parent is always followed, an unsampled
    /// one never). <c>OTEL_TRACES_SAMPLER</c>, when set, replaces this sampler altogether.
    /// </summary>
    /// <value>Defaults to 0.1 (one trace in ten); between 0 and 1.</value>
    [Range(0d, 1d)]
    public double SamplingRatio { get; init; } = DefaultSamplingRatio;

    /// <summary>
    /// Also traces each aggregate call's HTTP request (<c>System.Net.Http</c> spans under the source's span). Off by
    /// default: the source's span already names the method, address, status and destination, and those spans cost
    /// about as much as the rest of a sampled request's tracing. Pass-through routes are traced either way.
    /// </summary>
    /// <value>Defaults to false.</value>
    public bool HttpClientSpans { get; init; }

    internal const double DefaultSamplingRatio = 0.1;
}
