namespace Gateway.Configuration;

/// <summary>What the gateway exposes of its telemetry itself (<c>Gateway:Telemetry</c>); OTLP export follows the standard <c>OTEL_*</c> variables.</summary>
public sealed record TelemetryOptions
{
    /// <summary>Serves the metrics in Prometheus text format at <c>/metrics</c>.</summary>
    /// <value>Defaults to false.</value>
    public bool Prometheus { get; init; }
}
