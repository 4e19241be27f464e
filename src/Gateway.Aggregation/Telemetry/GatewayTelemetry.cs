using System.Diagnostics;

namespace Gateway.Telemetry;

/// <summary>
/// The gateway's one <see cref="ActivitySource"/>, named <c>Gateway</c> like its meter (what users pass to
/// <c>AddSource</c> / <c>AddMeter</c>). The source is static, as ASP.NET Core's and YARP's are: spans carry no
/// host state. The meter is not: each host creates it from its <c>IMeterFactory</c> (<see cref="GatewayMetrics"/>).
/// </summary>
internal static class GatewayTelemetry
{
    public const string Name = "Gateway";

    public static readonly ActivitySource Source = new(Name);
}
