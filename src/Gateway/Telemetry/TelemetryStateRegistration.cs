using Gateway.Aggregation;

namespace Gateway.Telemetry;

/// <summary>Reports this gateway's downstreams and datasets on the observed instruments while it runs.</summary>
internal sealed class TelemetryStateRegistration(AggregationCatalog catalog, TimeProvider timeProvider) : IHostedService, IDisposable
{
    private IDisposable? _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration ??= GatewayStateMetrics.Register(catalog, timeProvider);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _registration, null)?.Dispose();
    }
}
