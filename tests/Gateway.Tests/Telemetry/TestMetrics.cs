using System.Diagnostics.Metrics;
using Gateway.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Telemetry;

/// <summary>The gateway's instruments on a meter of their own, as each host has: a test listens to its own only.</summary>
internal static class TestMetrics
{
    public static GatewayMetrics Create() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
}
