using System.Threading.RateLimiting;
using Gateway.Downstream;
using Gateway.Telemetry;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Gateway.Caching;

/// <summary>
/// One refresh of a dataset, through the same path as an aggregate source's call: the cluster's concurrency
/// limit, its resilience pipeline and YARP's destinations, balancing and health, the body cap and the JSON
/// check. A good body replaces the copy; anything else keeps the last good one. With a shared store
/// (<see cref="DatasetSharing"/>) the store decides first whether this instance calls the downstream at all.
/// </summary>
internal sealed class DatasetRefresher(DownstreamClient client, TimeProvider timeProvider, ILogger<DatasetRefresher> logger, GatewayMetrics metrics, DatasetSharing? sharing = null)
{
    private static readonly KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>[] NoHeaders = [];

    /// <summary>The store, when instances share their datasets.</summary>
    public DatasetSharing? Sharing => sharing;

    /// <summary>Refreshes <paramref name="dataset"/>; <paramref name="stopping"/> (shutdown) cancels it. Says when the next refresh is due. Never throws but for a bug.</summary>
    public async Task<RefreshEnd> RefreshAsync(CachedDataset dataset, CancellationToken stopping)
    {
        if (sharing is null)
        {
            await CallAsync(dataset, stopping).ConfigureAwait(false);
            return RefreshEnd.Scheduled;
        }

        var decision = await sharing.DecideAsync(dataset, stopping).ConfigureAwait(false);
        switch (decision.Step)
        {
            case SharingStep.UpToDate:
                return RefreshEnd.CopyAged(decision.Age);
            case SharingStep.Follow:
                return RefreshEnd.After(dataset.Definition.FollowDelay);
        }

        var loaded = await CallAsync(dataset, stopping).ConfigureAwait(false);
        if (decision.Step == SharingStep.Lead)
        {
            await (loaded ? sharing.ShareAsync(dataset, stopping) : sharing.RefreshFailedAsync(dataset, stopping)).ConfigureAwait(false);
        }

        return RefreshEnd.Scheduled;
    }

    /// <summary>Calls the downstream; true when a good copy was loaded.</summary>
    private async Task<bool> CallAsync(CachedDataset dataset, CancellationToken stopping)
    {
        var definition = dataset.Definition;
        var downstream = definition.Downstream;
        var started = timeProvider.GetTimestamp();
        using var timeout = new CancellationTokenSource(definition.Timeout, timeProvider);
        using var link = stopping.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
        var cancellationToken = timeout.Token;
        RateLimitLease? lease = null;
        var outcome = RefreshOutcome.Ok;
        string? message = null;
        var span = GatewayActivities.StartRefresh(dataset.Name);
        try
        {
            lease = await downstream.Limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
            if (!lease.IsAcquired)
            {
                downstream.CountRejected();
                (outcome, message) = (RefreshOutcome.Rejected, $"downstream '{downstream.Id}' is at its concurrency limit");
                return false;
            }

            var endsAt = started + (long)(definition.Timeout.TotalSeconds * timeProvider.TimestampFrequency);
            var call = new DownstreamCall(downstream, definition.Address, NoHeaders, null, endsAt, timeProvider, timeout.Token, stopping) { Span = span };
            using var response = await downstream.SendAsync(call, client, cancellationToken).ConfigureAwait(false);
            (outcome, message) = response.Problem switch
            {
                ResponseProblem.None => (RefreshOutcome.Ok, null),
                ResponseProblem.HttpStatus => (RefreshOutcome.HttpStatus, $"downstream '{downstream.Id}' answered HTTP {response.Status}"),
                ResponseProblem.TooLarge => (RefreshOutcome.InvalidResponse, $"response of downstream '{downstream.Id}' is larger than {downstream.MaxResponseBytes} bytes"),
                _ => (RefreshOutcome.InvalidResponse, $"response of downstream '{downstream.Id}' is not valid JSON"),
            };
            if (outcome == RefreshOutcome.Ok)
            {
                // The copy outlives the request that read it: out of the pool into an array of its own.
                var body = response.TakeBody()!;
                var utf8 = body.Span.ToArray();
                body.Release();
                dataset.Loaded(utf8, response.Status, timeProvider.GetTimestamp(), timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
            }
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            (outcome, message) = stopping.IsCancellationRequested
                ? (RefreshOutcome.Cancelled, "cancelled: the gateway is shutting down")
                : (RefreshOutcome.Timeout, $"no answer within {(long)definition.Timeout.TotalMilliseconds} ms");
        }
        catch (BrokenCircuitException)
        {
            (outcome, message) = (RefreshOutcome.CircuitOpen, $"downstream '{downstream.Id}' is failing: its circuit breaker is open, the call was not sent");
        }
        catch (TimeoutRejectedException)
        {
            (outcome, message) = (RefreshOutcome.Timeout, $"downstream '{downstream.Id}' did not answer within its attempt timeout");
        }
        catch (NoDestinationException)
        {
            (outcome, message) = (RefreshOutcome.Unavailable, $"downstream '{downstream.Id}' has no available destination");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            (outcome, message) = (RefreshOutcome.Unavailable, $"downstream '{downstream.Id}' could not be reached or dropped the connection");
        }
        catch (Polly.ExecutionRejectedException)
        {
            (outcome, message) = (RefreshOutcome.Rejected, $"downstream '{downstream.Id}' is at its concurrency limit");
        }
        catch (Exception ex)
        {
            Log.RefreshUnexpectedError(logger, dataset.Name, ex);
            (outcome, message) = (RefreshOutcome.Unavailable, $"refresh of dataset '{dataset.Name}' failed");
        }
        finally
        {
            lease?.Dispose();
            GatewayActivities.EndRefresh(span, outcome.ToName());
            metrics.RecordRefresh(dataset.Name, outcome.ToName());
            if (outcome != RefreshOutcome.Ok)
            {
                dataset.Failed(outcome, message!, timeProvider.GetTimestamp());
                if (outcome != RefreshOutcome.Cancelled)
                {
                    Log.RefreshFailed(logger, dataset.Name, outcome.ToName(), message!, dataset.FailuresInRow);
                }
            }
            else
            {
                Log.Refreshed(logger, dataset.Name, dataset.Copy?.Body.Length ?? 0, (long)timeProvider.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        return outcome == RefreshOutcome.Ok;
    }
}
