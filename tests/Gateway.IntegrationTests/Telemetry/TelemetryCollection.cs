namespace Gateway.IntegrationTests.Telemetry;

/// <summary>
/// The tests that build OpenTelemetry providers. A provider listens to every <c>ActivitySource</c> in the
/// process, and the sampling decision is the most generous of all listeners: one test's sampler would decide
/// for another's gateway. They run one at a time and alone, so that each sees only its own provider and no
/// other test runs with a listener it did not ask for.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "OpenTelemetry providers";
}
