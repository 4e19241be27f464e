namespace Gateway.Telemetry;

/// <summary>
/// Observed instruments of one host's state: they report from the host's start until its stop, and nothing after
/// (the instruments stay on the meter until the host's service provider disposes it).
/// </summary>
internal abstract class ObservedWhileRunning : IHostedService
{
    private volatile bool _running;

    protected bool Running => _running;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _running = true;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _running = false;
        return Task.CompletedTask;
    }
}
