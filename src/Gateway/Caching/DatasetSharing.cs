using Gateway.Caching.Redis;
using Gateway.Downstream;
using Gateway.Logging;

namespace Gateway.Caching;

/// <summary>
/// Datasets shared between gateway instances through a store (Redis): each is refreshed from its downstream once
/// per interval across all of them. Before a refresh calls the downstream, the instance looks at the store:
/// <list type="bullet">
/// <item>a shared copy newer than its own is taken (from the store, not the downstream);</item>
/// <item>when that copy is not due yet (younger than <see cref="CachedDataDefinition.DueAge"/>) nothing is called;
/// the next look is due when the copy will be;</item>
/// <item>when it is due or missing, the instance that holds the lease (or takes it, free, with <c>SET NX PX</c>)
/// calls the downstream and writes the copy; the lease lasts <see cref="CachedDataDefinition.LeaseFor"/> from each
/// of its refreshes, so the holder keeps it while it refreshes and a dead one's lapses;</item>
/// <item>the others look again after <see cref="CachedDataDefinition.FollowDelay"/>.</item>
/// </list>
/// When the store is unreachable or fails, the instance refreshes from the downstream on its own, as without a
/// store; client requests never wait on any of this (they read the copy in memory).
/// </summary>
internal sealed class DatasetSharing(ISharedDatasetStore store, TimeProvider timeProvider, ILogger<DatasetSharing> logger)
{
    private readonly LogThrottle _failures = new(timeProvider, LogThrottle.DefaultWindow);

    public string InstanceId => store.InstanceId;

    /// <summary>Decides what the refresh of <paramref name="dataset"/> starting now does; takes a newer shared copy on the way. Never throws.</summary>
    public async Task<SharingDecision> DecideAsync(CachedDataset dataset, CancellationToken stopping)
    {
        var forced = dataset.TakeForced();
        if (!store.IsAvailable)
        {
            dataset.LeaseHeld = false;
            return new SharingDecision(SharingStep.Alone, TimeSpan.Zero);
        }

        var definition = dataset.Definition;
        try
        {
            var state = await store.ReadAsync(dataset.Name, stopping).ConfigureAwait(false);
            var me = store.InstanceId;
            if (state.Value is { } value)
            {
                Adopt(dataset, value, state.Age);
            }

            if (state.Value is not null && state.Age < definition.DueAge && !forced)
            {
                dataset.LeaseHeld = state.LeaseHolder == me;
                return new SharingDecision(SharingStep.UpToDate, state.Age);
            }

            var leading = state.LeaseHolder == me ? await store.ExtendLeaseAsync(dataset.Name, definition.LeaseFor, stopping).ConfigureAwait(false)
                : state.LeaseHolder is null && await store.TryAcquireLeaseAsync(dataset.Name, definition.LeaseFor, stopping).ConfigureAwait(false);
            dataset.LeaseHeld = leading;

            // A refresh management asked for calls the downstream even while another instance holds the lease.
            return new SharingDecision(leading || forced ? SharingStep.Lead : SharingStep.Follow, state.Age);
        }
        catch (Exception ex)
        {
            Failed("read", dataset, ex, stopping);
            dataset.LeaseHeld = false;
            return new SharingDecision(SharingStep.Alone, TimeSpan.Zero);
        }
    }

    /// <summary>Writes the copy this instance has just loaded from the downstream for the others. Never throws.</summary>
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

        // Written by a gateway after its JSON check; checked again, since the envelope copies it byte for byte.
        if (!ResponseBody.IsJson(value.Body))
        {
            Log.SharedCopyInvalid(logger, dataset.Name, value.Writer);
            return;
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
