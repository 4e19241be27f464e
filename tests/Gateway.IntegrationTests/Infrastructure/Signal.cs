namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>A one-shot signal between a test and a downstream endpoint; every wait on it is bounded.</summary>
public sealed class Signal
{
    /// <summary>How long a test waits for something that must happen.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly TaskCompletionSource _source = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Task => _source.Task;

    public bool IsSet => _source.Task.IsCompleted;

    public void Set() => _source.TrySetResult();

    /// <summary>Waits for the signal; throws <see cref="TimeoutException"/> after <paramref name="timeout"/> (default <see cref="Patience"/>).</summary>
    public Task WaitAsync(TimeSpan? timeout = null) => _source.Task.WaitAsync(timeout ?? Patience);

    /// <summary>Waits for the signal up to <paramref name="timeout"/> or until <paramref name="cancellationToken"/>; false when it did not come.</summary>
    public async Task<bool> TryWaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await _source.Task.WaitAsync(timeout, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            return false;
        }
    }
}
