using Gateway.Downstream;
using Gateway.Logging;

namespace Gateway.Caching;

/// <summary>
/// Datasets shared between gateway instances through a store (Redis): each is refreshed from its downstream once
/// per interval across all of them. Before a refresh calls the downstream, the instance looks at the store:
/// <list type="bullet">
/// <item>a value that fails the checks (format, lengths, time to live, JSON) counts as no value: it is logged, never
/// taken, never counted as current, and the refresh replaces it;</item>
/// <item>a shared copy newer than its own is taken (from the store, not the downstream);</item>
/// <item>when that copy is not due yet (younger than <see cref="CachedDataDefinition.DueAge"/>) nothing is called;
/// the next look is due when the copy will be;</item>
/// <item>when it is due or missing, the instance that holds the lease (or takes it, free or without a time to live)
/// calls the downstream and writes the copy; a good refresh extends the lease to <see cref="CachedDataDefinition.LeaseFor"/>,
/// a failed one does not, and after <see cref="CachedDataDefinition.GiveUpLeaseAfterFailures"/> failures in a row the
/// holder gives it up;</item>
/// <item>the others look again after <see cref="CachedDataDefinition.FollowDelay"/>, and take the lease over
/// (compare-and-set on the holder they saw) once the shared copy is overdue: older than its fresh period, invalid, or
/// missing for longer than that fresh period.</item>
/// </list>
/// When the store is unreachable or fails, the instance refreshes from the downstream on its own, as without a
/// store; client requests never wait on any of this (they read the copy in memory).
/// </summary>
internal sealed class DatasetSharing(ISharedDatasetStore store, TimeProvider timeProvider, ILogger<DatasetSharing> logger)
{
    private const int MaxHolderLength = 100;
    private readonly LogThrottle _failures = new(timeProvider, LogThrottle.DefaultWindow);
    private readonly LogThrottle _invalid = new(timeProvider, LogThrottle.DefaultWindow);

    public string InstanceId => store.InstanceId;

    /// <summary>Decides what the refresh of <paramref name="dataset"/> starting now does; takes a newer shared copy on the way. Never throws.</summary>
    public async Task<SharingDecision> DecideAsync(CachedDataset dataset, CancellationToken stopping)
    {
        var forced = dataset.TakeForced();
        if (!store.IsAvailable)
        {
            dataset.LeaseHeld = false;
            dataset.StopsFollowing();
            return new SharingDecision(SharingStep.Alone, TimeSpan.Zero);
        }

        var definition = dataset.Definition;
        try
        {
            var state = await store.ReadAsync(dataset.Name, stopping).ConfigureAwait(false);
            var problem = Check(dataset, state, out var value);
            if (problem is not null && _invalid.TryEnter(out var suppressed))
            {
                Log.SharedCopyInvalid(logger, dataset.Name, problem, suppressed);
            }

            if (value is not null)
            {
                Adopt(dataset, value, state.Age);
            }

            if (value is not null && state.Age < definition.DueAge && !forced)
            {
                dataset.LeaseHeld = state.LeaseHolder == store.InstanceId && !state.LeaseWithoutTtl;
                dataset.StopsFollowing();
                return new SharingDecision(SharingStep.UpToDate, state.Age);
            }

            var leading = await LeadAsync(dataset, state, value, problem, stopping).ConfigureAwait(false);
            dataset.LeaseHeld = leading;

            // A refresh management asked for calls the downstream even while another instance holds the lease.
            if (leading || forced)
            {
                dataset.StopsFollowing();
                return new SharingDecision(SharingStep.Lead, state.Age);
            }

            dataset.Follows(timeProvider.GetTimestamp());
            return new SharingDecision(SharingStep.Follow, state.Age);
        }
        catch (Exception ex)
        {
            Failed("read", dataset, ex, stopping);
            dataset.LeaseHeld = false;
            dataset.StopsFollowing();
            return new SharingDecision(SharingStep.Alone, TimeSpan.Zero);
        }
    }

    /// <summary>A refresh this instance led failed: from the <see cref="CachedDataDefinition.GiveUpLeaseAfterFailures"/>-th failure in a row on, it gives the lease up. Never throws.</summary>
    public async Task RefreshFailedAsync(CachedDataset dataset, CancellationToken stopping)
    {
        // Shutdown gives every lease up anyway (RefreshWorkers.StopAsync).
        if (!dataset.LeaseHeld || dataset.FailuresInRow < CachedDataDefinition.GiveUpLeaseAfterFailures || stopping.IsCancellationRequested)
        {
            return;
        }

        try
        {
            var released = await store.ReleaseLeaseAsync(dataset.Name, stopping).ConfigureAwait(false);
            dataset.LeaseHeld = false;
            if (released)
            {
                Log.LeaseGivenUp(logger, dataset.Name, dataset.FailuresInRow);
            }
        }
        catch (Exception ex)
        {
            Failed("give up the lease of", dataset, ex, stopping);
        }
    }

    /// <summary>Writes the copy this instance has just loaded from the downstream for the others, and extends its lease when it holds it. Never throws.</summary>
    public async Task ShareAsync(CachedDataset dataset, CancellationToken stopping)
    {
        if (dataset.Copy is not { Origin: CopyOrigin.Downstream } copy)
        {
            return;
        }

        try
        {
            var value = new SharedValue(copy.Body.Span.ToArray(), copy.Status, copy.LoadedAtUnixMs, store.InstanceId);
            await store.WriteAsync(dataset.Name, value, dataset.Definition.ServedFor, stopping).ConfigureAwait(false);

            // Only a good refresh extends the lease: a holder that keeps failing loses it by itself.
            if (dataset.LeaseHeld)
            {
                dataset.LeaseHeld = await store.ExtendLeaseAsync(dataset.Name, dataset.Definition.LeaseFor, stopping).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            Failed("write", dataset, ex, stopping);
        }
    }

    /// <summary>Gives up the leases this instance holds (on shutdown), so that another instance takes over at its next look rather than when they lapse.</summary>
    public async Task ReleaseLeasesAsync(IEnumerable<CachedDataset> datasets, CancellationToken cancellationToken)
    {
        foreach (var dataset in datasets)
        {
            if (!dataset.LeaseHeld || !store.IsAvailable)
            {
                continue;
            }

            try
            {
                await store.ReleaseLeaseAsync(dataset.Name, cancellationToken).ConfigureAwait(false);
                dataset.LeaseHeld = false;
            }
            catch (Exception ex)
            {
                Failed("release the lease of", dataset, ex, cancellationToken);
            }
        }
    }

    /// <summary>
    /// What is wrong with the shared value, or null when nothing is (or there is none); <paramref name="value"/> is the
    /// value only when it passed. The store checked the format and the time to live; the body is checked here, for any
    /// store, since the envelope copies it byte for byte: written by a gateway after its JSON check, but Redis is not
    /// the gateway. Bytes equal to this instance's own copy were checked when it loaded them.
    /// </summary>
    private static string? Check(CachedDataset dataset, SharedState state, out SharedValue? value)
    {
        value = null;
        if (state.Invalid is { } problem)
        {
            return problem;
        }

        if (state.Value is not { } shared)
        {
            return null;
        }

        if (dataset.Copy is not { } copy || !copy.Body.Span.SequenceEqual(shared.Body))
        {
            if (!ResponseBody.IsJson(shared.Body))
            {
                return "its body is not valid JSON";
            }

            if (shared.Status is < 200 or > 299)
            {
                return $"status {shared.Status}, not a success";
            }
        }

        value = shared;
        return null;
    }

    /// <summary>Whether this instance refreshes for all: it holds the lease, takes it (free, or without a time to live), or takes it over (the copy is overdue).</summary>
    private async Task<bool> LeadAsync(CachedDataset dataset, SharedState state, SharedValue? value, string? problem, CancellationToken stopping)
    {
        var definition = dataset.Definition;
        if (state.LeaseHolder is not { } holder || state.LeaseWithoutTtl)
        {
            var taken = await store.TryAcquireLeaseAsync(dataset.Name, definition.LeaseFor, stopping).ConfigureAwait(false);
            if (taken && state.LeaseHolder is { } stray)
            {
                Log.LeaseRepaired(logger, dataset.Name, Printable(stray));
            }

            return taken;
        }

        // Kept, not extended: only a good refresh extends it (ShareAsync).
        if (holder == store.InstanceId)
        {
            return true;
        }

        if (Overdue(dataset, state, value, problem) is not { } reason)
        {
            return false;
        }

        var takenOver = await store.TakeOverLeaseAsync(dataset.Name, holder, definition.LeaseFor, stopping).ConfigureAwait(false);
        if (takenOver)
        {
            Log.LeaseTakenOver(logger, dataset.Name, Printable(holder), reason);
        }

        return takenOver;
    }

    /// <summary>Why the holder's refresh is overdue (so another instance takes it over), or null while it is not.</summary>
    private string? Overdue(CachedDataset dataset, SharedState state, SharedValue? value, string? problem)
    {
        var freshFor = dataset.Definition.FreshFor;
        if (problem is not null)
        {
            return "the shared copy is invalid";
        }

        if (value is not null)
        {
            return state.Age > freshFor ? $"the shared copy is {(long)state.Age.TotalMilliseconds} ms old, past its fresh period of {(long)freshFor.TotalMilliseconds} ms" : null;
        }

        var waited = dataset.FollowedFor(timeProvider.GetTimestamp());
        return waited > freshFor ? $"no shared copy came in {(long)waited.TotalMilliseconds} ms, past the fresh period of {(long)freshFor.TotalMilliseconds} ms" : null;
    }

    // A lease's value is whatever Redis holds: bounded and without control characters before it is logged.
    private static string Printable(string holder)
    {
        var text = holder.Length > MaxHolderLength ? holder[..MaxHolderLength] : holder;
        return text.Any(char.IsControl) ? string.Concat(text.Select(c => char.IsControl(c) ? '?' : c)) : text;
    }

    // A shared copy replaces this instance's own when it is younger and not the same one.
    private void Adopt(CachedDataset dataset, SharedValue value, TimeSpan age)
    {
        var now = timeProvider.GetTimestamp();
        if (dataset.Copy is { } copy)
        {
            if ((copy.Writer ?? store.InstanceId) == value.Writer && copy.LoadedAtUnixMs == value.LoadedAtUnixMs)
            {
                return;
            }

            var ownAge = now <= copy.LoadedAt ? TimeSpan.Zero : timeProvider.GetElapsedTime(copy.LoadedAt, now);
            if (ownAge <= age)
            {
                return;
            }
        }

        var loadedAt = now - (long)(age.TotalSeconds * timeProvider.TimestampFrequency);
        dataset.Loaded(value.Body, value.Status, loadedAt, value.LoadedAtUnixMs, CopyOrigin.Redis, value.Writer);
        Log.SharedCopyTaken(logger, dataset.Name, value.Writer, value.Body.Length, (long)age.TotalMilliseconds);
    }

    private void Failed(string operation, CachedDataset dataset, Exception exception, CancellationToken stopping)
    {
        if (stopping.IsCancellationRequested)
        {
            return;
        }

        if (_failures.TryEnter(out var suppressed))
        {
            Log.SharedStoreFailed(logger, operation, dataset.Name, exception.GetType().Name, suppressed);
        }
    }
}

/// <summary>What a refresh does with a shared store; see <see cref="DatasetSharing"/>.</summary>
internal enum SharingStep
{
    /// <summary>The store is unreachable or failed: call the downstream, share nothing.</summary>
    Alone,

    /// <summary>This instance holds the lease (or management forced it): call the downstream and write the copy.</summary>
    Lead,

    /// <summary>The shared copy is not due yet: no call; look again when it will be.</summary>
    UpToDate,

    /// <summary>The copy is due and another instance holds the lease: no call; look again soon.</summary>
    Follow,
}

/// <summary>The step, and the age of the shared copy (for <see cref="SharingStep.UpToDate"/>: when the next look is due).</summary>
internal readonly record struct SharingDecision(SharingStep Step, TimeSpan Age);
