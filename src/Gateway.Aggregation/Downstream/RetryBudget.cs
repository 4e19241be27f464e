namespace Gateway.Downstream;

/// <summary>
/// Envoy's retry budget for one downstream: retries in flight may be at most <c>BudgetPercent</c> of the
/// calls in flight, and never fewer than <c>MinRetryConcurrency</c>. Under a full outage every call fails
/// and most retries are refused, so the gateway does not multiply the load on a service that is down.
/// </summary>
internal sealed class RetryBudget(double budgetPercent, int minRetryConcurrency)
{
    private int _calls;
    private int _retries;

    /// <summary>Calls in flight through the pipeline.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Retries in flight.</summary>
    public int Retries => Volatile.Read(ref _retries);

    public void EnterCall() => Interlocked.Increment(ref _calls);

    public void ExitCall() => Interlocked.Decrement(ref _calls);

    /// <summary>Takes a permit for one retry when the budget has room; <see cref="Release"/> gives it back.</summary>
    public bool TryAcquire()
    {
        var allowed = Math.Max(minRetryConcurrency, (int)(Calls * budgetPercent / 100));
        var current = Volatile.Read(ref _retries);
        while (current < allowed)
        {
            var seen = Interlocked.CompareExchange(ref _retries, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    public void Release() => Interlocked.Decrement(ref _retries);
}
