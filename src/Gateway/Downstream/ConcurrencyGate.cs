namespace Gateway.Downstream;

/// <summary>
/// Caps the calls in flight to one downstream across all requests, with a bounded queue behind the cap.
/// A caller that finds both the slots and the queue full is turned away at once instead of waiting.
/// Not disposable on purpose: calls may still be leaving it at shutdown, and without an
/// AvailableWaitHandle the semaphore holds nothing to release.
/// </summary>
internal sealed class ConcurrencyGate
{
    private readonly SemaphoreSlim _slots;
    private readonly int _capacity;
    private int _occupancy;

    public ConcurrencyGate(int maxConcurrency, int maxQueue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrency, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxQueue);
        _slots = new SemaphoreSlim(maxConcurrency, maxConcurrency);
        _capacity = maxConcurrency + maxQueue;
    }

    /// <summary>Calls holding a slot or waiting for one.</summary>
    public int Occupancy => Volatile.Read(ref _occupancy);

    /// <summary>
    /// Takes a slot, waiting in the queue when there is room in it. False when slots and queue are full;
    /// on true the caller must call <see cref="Exit"/> exactly once.
    /// </summary>
    public ValueTask<bool> TryEnterAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _occupancy) > _capacity)
        {
            Interlocked.Decrement(ref _occupancy);
            return new ValueTask<bool>(false);
        }

        return _slots.Wait(0, CancellationToken.None) ? new ValueTask<bool>(true) : WaitForSlotAsync(cancellationToken);
    }

    public void Exit()
    {
        Interlocked.Decrement(ref _occupancy);
        _slots.Release();
    }

    private async ValueTask<bool> WaitForSlotAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch
        {
            Interlocked.Decrement(ref _occupancy);
            throw;
        }
    }
}
