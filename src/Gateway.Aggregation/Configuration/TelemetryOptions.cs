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
}
