namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>
/// Lets downstream endpoints find out whether they ran at the same time: each arrives, then waits (bounded)
/// until all parties are present at once. A party that gives up leaves, so a latecomer finds nobody.
/// </summary>
public sealed class Rendezvous(int parties)
{
    private readonly Signal _all = new();
    private int _present;

    /// <summary>Arrives and waits up to <paramref name="timeout"/> for the others; true when all were present together.</summary>
    public async Task<bool> ArriveAndWaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _present) >= parties)
        {
            _all.Set();
        }

        var met = await _all.TryWaitAsync(timeout, cancellationToken);
        if (!met)
        {
            Interlocked.Decrement(ref _present);
        }

        return met;
    }
}
