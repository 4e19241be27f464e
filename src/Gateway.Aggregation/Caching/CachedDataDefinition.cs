using Gateway.Downstream;
using Gateway.Model;

namespace Gateway.Caching;

/// <summary>A validated dataset (<c>Gateway:CachedData:{name}</c>); immutable.</summary>
internal sealed record CachedDataDefinition
{
    /// <summary>How far the first retry after a failure is pushed back; each further one doubles it.</summary>
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>The longest back-off (never above the refresh interval either).</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);

    public required string Name { get; init; }

    public required DownstreamService Downstream { get; init; }

    public required PathTemplate Path { get; init; }

    public required IDownstreamAddress Address { get; init; }

    public required TimeSpan RefreshInterval { get; init; }

    /// <summary>Fraction of each delay by which it varies at random, either way.</summary>
    public required double Jitter { get; init; }

    /// <summary>Timeout of one refresh call.</summary>
    public required TimeSpan Timeout { get; init; }

    /// <summary>What a refresh's failure says (the invoker's messages for this downstream and timeout).</summary>
    public CallMessages Messages => field ??= new(Downstream, Timeout);

    /// <summary>Names the dataset in the log of a failure nobody expects.</summary>
    public string Caller => $"dataset '{Name}'";

    public required TimeSpan MaxStaleness { get; init; }

    /// <summary>Whether readiness waits for the first load.</summary>
    public required bool Required { get; init; }

    /// <summary>
    /// A copy is fresh while no refresh has failed since it loaded and it is no older than this: the longest
    /// the next refresh can be due (the interval plus its jitter) plus the time that refresh may take.
    /// </summary>
    public TimeSpan FreshFor => RefreshInterval * (1 + Jitter) + Timeout;

    /// <summary>Past this age the copy is not served at all (<c>stale_expired</c>).</summary>
    public TimeSpan ServedFor => FreshFor + MaxStaleness;

    /// <summary>
    /// With a shared store: a copy at least this old is due for a refresh by whichever instance holds the lease. The
    /// earliest a jittered timer fires, less a little, so that the timer of the instance that loaded it finds it due.
    /// </summary>
    public TimeSpan DueAge => (RefreshInterval * (1 - Jitter)) - Min(RefreshInterval / 10, TimeSpan.FromMilliseconds(100));

    /// <summary>With a shared store: how soon an instance looks again when another holds the lease and the copy is due (a quarter of the interval, at most 1 s).</summary>
    public TimeSpan FollowDelay => Min(RefreshInterval / 4, TimeSpan.FromSeconds(1));

    /// <summary>
    /// With a shared store: how long a lease lasts from its holder's last refresh; longer than the holder's next
    /// refresh can be due (the interval or the back-off, jittered) plus that refresh's timeout, so that only a holder
    /// that stopped refreshing loses it.
    /// </summary>
    public TimeSpan LeaseFor => FreshFor + TimeSpan.FromSeconds(1);

    /// <summary>
    /// With a shared store: after this many failed refreshes in a row the holder gives its lease up (and after every
    /// further one), so that another instance, whose downstream may answer, takes the refresh at its next look. With
    /// the back-off that is about 3 s after the first failure (1 s, then 2 s), or three intervals when they are shorter.
    /// </summary>
    public const int GiveUpLeaseAfterFailures = 3;

    /// <summary>The back-off after <paramref name="failuresInRow"/> failures: 1 s, 2 s, 4 s ... capped at the lower of 1 minute and the interval.</summary>
    public TimeSpan RetryDelay(int failuresInRow)
    {
        var cap = RefreshInterval < MaxRetryDelay ? RefreshInterval : MaxRetryDelay;
        var doublings = Math.Clamp(failuresInRow - 1, 0, 30);
        var delay = FirstRetryDelay * Math.Pow(2, doublings);
        return delay < cap ? delay : cap;
    }

    /// <summary>The delay before the next refresh: the interval after a success, the back-off after a failure, jittered by <paramref name="random"/> (0 to 1).</summary>
    public TimeSpan NextDelay(int failuresInRow, double random)
    {
        var delay = failuresInRow == 0 ? RefreshInterval : RetryDelay(failuresInRow);
        return delay * (1 + (Jitter * ((2 * random) - 1)));
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
