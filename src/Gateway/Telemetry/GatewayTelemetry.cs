using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gateway.Telemetry;

/// <summary>
/// The gateway's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named <c>Gateway</c>
/// (what users pass to <c>AddSource</c> / <c>AddMeter</c>). Each concern creates its instruments on <see cref="Meter"/>.
/// </summary>
internal static class GatewayTelemetry
{
    public const string Name = "Gateway";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);
}
