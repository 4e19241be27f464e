using Gateway.Model;

namespace Gateway.Caching;

/// <summary>
/// One dataset's live state: the last good copy (swapped whole, so a reader never sees half of a refresh)
/// and the refresh bookkeeping that management shows. Exactly one refresh of a dataset runs at a time
/// (<see cref="TryMarkPending"/>), so only readers race with it.
/// </summary>
internal sealed class CachedDataset(CachedDataDefinition definition, int index, TimeProvider timeProvider)
{
    private volatile DatasetCopy? _copy;
    private volatile RefreshReport? _lastRefresh;
    private int _failuresInRow;
    private int _pending;
    private int _forced;
    private volatile bool _leaseHeld;
    private int _uses;
    private long _nextRefreshAt = long.MaxValue;
    private long _followingSince = NotFollowing;

    private const long NotFollowing = long.MinValue;

    public CachedDataDefinition Definition { get; } = definition;

    public string Name => Definition.Name;

    /// <summary>Position among all datasets (the scheduler's timers are kept by it).</summary>
    public int Index { get; } = index;

    public DatasetCopy? Copy => _copy;

    public RefreshReport? LastRefresh => _lastRefresh;

    public int FailuresInRow => Volatile.Read(ref _failuresInRow);

    /// <summary>A refresh is queued or running.</summary>
    public bool IsPending => Volatile.Read(ref _pending) != 0;

    /// <summary>Whether some aggregate reads this dataset.</summary>
    public bool IsUsed => Volatile.Read(ref _uses) > 0;

    /// <summary>When the next scheduled refresh is due (a <see cref="TimeProvider"/> timestamp); <see cref="long.MaxValue"/> when none is.</summary>
    public long NextRefreshAt => Volatile.Read(ref _nextRefreshAt);

    /// <summary>With a shared store: this instance held the dataset's lease when it last looked.</summary>
    public bool LeaseHeld
    {
        get => _leaseHeld;
        set => _leaseHeld = value;
    }

    /// <summary>With a shared store: the last refresh found the copy due and left it to the instance that holds the lease.</summary>
    public bool IsFollowing => Volatile.Read(ref _followingSince) != NotFollowing;

    /// <summary>Why the copy has not been renewed, for a client whose source it no longer serves (what really happened, no guess).</summary>
    public string NotRenewedBecause => FailuresInRow switch
    {
        1 => "the last refresh failed",
        > 1 and var n => $"the last {n} refreshes failed",
        _ when IsFollowing => "another instance holds the refresh lease and has shared no newer copy yet",
        _ when IsPending => "a refresh is under way",
        _ => "no refresh has loaded a newer copy since",
    };

    public void MarkUsed() => Interlocked.Increment(ref _uses);

    /// <summary>A refresh left the copy to the lease holder at <paramref name="now"/>; the first of such refreshes in a row starts the count.</summary>
    public void Follows(long now)
    {
        if (Volatile.Read(ref _followingSince) == NotFollowing)
        {
            Volatile.Write(ref _followingSince, now);
        }
    }

    public void StopsFollowing() => Volatile.Write(ref _followingSince, NotFollowing);

    /// <summary>How long this instance has been leaving the copy to the lease holder without a newer copy coming (zero when it is not).</summary>
    public TimeSpan FollowedFor(long now)
    {
        var since = Volatile.Read(ref _followingSince);
        return since == NotFollowing || now <= since ? TimeSpan.Zero : timeProvider.GetElapsedTime(since, now);
    }

    /// <summary>The next refresh is to call the downstream even when a shared copy is current (management asked for it).</summary>
    public void Force() => Volatile.Write(ref _forced, 1);

    /// <summary>Whether the refresh starting now was asked for by management; clears the request.</summary>
    public bool TakeForced() => Interlocked.Exchange(ref _forced, 0) != 0;

    /// <summary>Claims the right to refresh; false while another refresh is queued or running.</summary>
    public bool TryMarkPending() => Interlocked.CompareExchange(ref _pending, 1, 0) == 0;

    public void ClearPending() => Volatile.Write(ref _pending, 0);

    public void ScheduledAt(long dueAt) => Volatile.Write(ref _nextRefreshAt, dueAt);

    /// <summary>
    /// A refresh brought <paramref name="utf8"/> (validated JSON, owned from now on by the copy), loaded at <paramref name="at"/>
    /// (a timestamp; <paramref name="atUnixMs"/> on the wall clock) from the downstream or, written by <paramref name="writer"/>, from the shared store.
    /// </summary>
    public void Loaded(byte[] utf8, int status, long at, long atUnixMs, CopyOrigin origin = CopyOrigin.Downstream, string? writer = null)
    {
        _copy = new DatasetCopy(new SharedBody(utf8), status, at) { Origin = origin, LoadedAtUnixMs = atUnixMs, Writer = writer };
        Volatile.Write(ref _failuresInRow, 0);
        StopsFollowing();
        _lastRefresh = new RefreshReport(SourceOutcome.Ok, null, at);
    }

    /// <summary>A refresh failed: the last good copy stays.</summary>
    public void Failed(SourceOutcome outcome, string message, long at)
    {
        Interlocked.Increment(ref _failuresInRow);
        _lastRefresh = new RefreshReport(outcome, message, at);
    }

    /// <summary>
    /// How the copy stands at <paramref name="now"/>: missing before the first load; fresh while no refresh
    /// has failed since it loaded and its age is within <see cref="CachedDataDefinition.FreshFor"/>; stale
    /// after that until <see cref="CachedDataDefinition.ServedFor"/>; expired past it.
    /// </summary>
    public CopyAge Classify(long now, out DatasetCopy? copy, out long ageMs)
    {
        copy = _copy;
        if (copy is null)
        {
            ageMs = 0;
            return CopyAge.Missing;
        }

        var age = now <= copy.LoadedAt ? TimeSpan.Zero : timeProvider.GetElapsedTime(copy.LoadedAt, now);
        ageMs = (long)age.TotalMilliseconds;
        var rules = Definition;
        return age > rules.ServedFor ? CopyAge.Expired
            : Volatile.Read(ref _failuresInRow) == 0 && age <= rules.FreshFor ? CopyAge.Fresh
            : CopyAge.Stale;
    }
}

/// <summary>A good copy of a dataset: its body, shared by every request that reads it, and when it loaded.</summary>
internal sealed record DatasetCopy(SharedBody Body, int Status, long LoadedAt)
{
    /// <summary>Where this instance got it.</summary>
    public CopyOrigin Origin { get; init; }

    /// <summary>When it loaded, on the wall clock of the instance that loaded it.</summary>
    public long LoadedAtUnixMs { get; init; }

    /// <summary>The instance that loaded it, when it came from the shared store; null when this one did.</summary>
    public string? Writer { get; init; }
}

/// <summary>Where a copy came from: this instance's own call, or the shared store (another instance's call).</summary>
internal enum CopyOrigin
{
    Downstream,
    Redis,
}

/// <summary>The last refresh: its outcome, what went wrong (never an address) and when it ended (a timestamp).</summary>
internal sealed record RefreshReport(SourceOutcome Outcome, string? Message, long At);

/// <summary>How a dataset's copy stands; see <see cref="CachedDataset.Classify"/>.</summary>
internal enum CopyAge
{
    Missing,
    Fresh,
    Stale,
    Expired,
}
