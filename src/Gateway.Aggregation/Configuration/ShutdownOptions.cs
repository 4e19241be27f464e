namespace Gateway.Configuration;

/// <summary>What the gateway does on SIGTERM (<c>Gateway:Shutdown</c>).</summary>
public sealed record ShutdownOptions
{
    /// <summary>
    /// How long the aggregates and routes in flight when the host starts stopping may still take; what is left then
    /// is cancelled and answered <c>cancelled</c> (503). The host's own shutdown timeout is set a little longer, so
    /// that the drain and not the host decides. Zero cancels at once.
    /// </summary>
    /// <value>Defaults to 25 s (with Kubernetes' 5 s <c>preStop</c> sleep, 30 s after the pod is deleted); at most 1 h.</value>
    public TimeSpan DrainTimeout { get; init; } = DefaultDrainTimeout;

    internal static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(25);

    internal static readonly TimeSpan MaxDrainTimeout = TimeSpan.FromHours(1);

    /// <summary>The host's shutdown timeout for this drain: <paramref name="margin"/> longer (the default drain's when out of range: start-up refuses it anyway).</summary>
    internal TimeSpan HostShutdownTimeout(TimeSpan margin) =>
        (DrainTimeout < TimeSpan.Zero || DrainTimeout > MaxDrainTimeout ? DefaultDrainTimeout : DrainTimeout) + margin;

    /// <summary>Adds an error naming the key for every value out of range.</summary>
    internal void Check(List<string> errors)
    {
        if (DrainTimeout < TimeSpan.Zero || DrainTimeout > MaxDrainTimeout)
        {
            errors.Add($"Gateway:Shutdown:DrainTimeout: must be between 0s and 1h (was {DrainTimeout})");
        }
    }
}
