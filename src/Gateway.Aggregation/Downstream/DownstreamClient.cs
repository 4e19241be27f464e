using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Polly;
using Polly.Timeout;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Gateway.Downstream;

/// <summary>
/// Sends one attempt of a downstream call through YARP: the cluster's available destinations (after active
/// and passive health), its load-balancing policy, its <see cref="HttpMessageInvoker"/> and request settings.
/// The attempt counts in YARP's in-flight counters and its outcome feeds the cluster's passive health policy,
/// so routes and aggregates see one health and one load per destination.
/// </summary>
internal sealed class DownstreamClient
{
    private readonly IProxyStateLookup _proxyState;
    private readonly Dictionary<string, ILoadBalancingPolicy> _balancers;
    private readonly Dictionary<string, IPassiveHealthCheckPolicy> _passiveHealth;

    private readonly TimeProvider _timeProvider;
    private readonly CallTransports _transports;

    public DownstreamClient(IProxyStateLookup proxyState, IEnumerable<ILoadBalancingPolicy> balancers, IEnumerable<IPassiveHealthCheckPolicy> passiveHealth, CallTransports transports, TimeProvider timeProvider)
    {
        _proxyState = proxyState;
        _transports = transports;
        _timeProvider = timeProvider;
        _balancers = balancers.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        _passiveHealth = passiveHealth.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// One attempt. What goes wrong comes back as the outcome's exception, not thrown: Polly's strategies take
    /// outcomes as they are, and the invoker classifies them without a throw and catch per failure.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Outcome<DownstreamResponse>> SendAsync(DownstreamCall call, CancellationToken cancellationToken)
    {
        var downstream = call.Downstream;
        if (!_proxyState.TryGetCluster(downstream.Id, out var cluster) || Pick(call, cluster) is not { } destination)
        {
            return Outcome.FromException<DownstreamResponse>(new NoDestinationException());
        }

        call.AddTried(destination);
        call.CountAttempt();
        AttemptActivities.SetDestination(call, destination.DestinationId);
        var model = cluster.Model;
        var settings = model.Config.HttpRequest;
        DestinationCounters.Enter(cluster, destination);
        CancellationTokenSource? activityTimeout = null;
        CancellationTokenRegistration activityLink = default;
        var caller = cancellationToken;
        try
        {
            // YARP's ActivityTimeout bounds an attempt too, when it is shorter than what is left.
            if (settings?.ActivityTimeout is { } idle && idle < call.TimeLeft)
            {
                activityTimeout = new CancellationTokenSource(idle, _timeProvider);
                activityLink = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), activityTimeout);
                cancellationToken = activityTimeout.Token;
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, call.Address.GetUri(destination.Model))
            {
                // YARP's defaults: HTTP/2 where the destination offers it, else HTTP/1.1.
                Version = settings?.Version ?? HttpVersion.Version20,
                VersionPolicy = settings?.VersionPolicy ?? HttpVersionPolicy.RequestVersionOrLower,
            };
            var headers = request.Headers;
            headers.TryAddWithoutValidation("Accept", "application/json");
            foreach (var (name, values) in call.Headers)
            {
                if (downstream.Propagates(name))
                {
                    if (values.Count == 1)
                    {
                        headers.TryAddWithoutValidation(name, values[0]);
                    }
                    else
                    {
                        headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
                    }
                }
            }

            // The request id the gateway settled (Logging.RequestIdMiddleware), whatever else was propagated.
            // PropagateHeaders cannot name it (refused at start-up), so nothing is there to replace.
            if (call.Context?.Request.Headers[Logging.RequestId.Header] is [{ } requestId])
            {
                headers.TryAddWithoutValidation(Logging.RequestId.Header, requestId);
            }

            // The time left is the gateway's to say, whatever else was propagated.
            headers.Remove(downstream.BudgetHeader);
            var budget = call.TimeLeft;
            if (downstream.Resilience.AttemptTimeout is { } attemptTimeout && attemptTimeout < budget)
            {
                budget = attemptTimeout;
            }

            headers.TryAddWithoutValidation(downstream.BudgetHeader, ((long)budget.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));

            var invoker = _transports.For(model.HttpClient, out var untraced);
            if (untraced)
            {
                _transports.Inject(request);
            }

            DownstreamResponse answer;
            using (var response = await invoker.SendAsync(request, cancellationToken).ConfigureAwait(false))
            {
                answer = await ReadAsync(response, downstream, destination.DestinationId, _timeProvider, cancellationToken).ConfigureAwait(false);
            }

            ReportHealth(cluster, destination, failed: false);
            return Outcome.FromResult(answer);
        }
        catch (OperationCanceledException ex) when (activityTimeout?.IsCancellationRequested == true && !caller.IsCancellationRequested)
        {
            // The destination stayed silent past ActivityTimeout: the attempt timed out (transient, retried).
            // A cancellation from the caller (timeout, deadline, fail-fast, a lost hedge) is not the
            // destination's failure, although it cancels the linked source as well.
            ReportHealth(cluster, destination, failed: true);
            return Outcome.FromException<DownstreamResponse>(
                new TimeoutRejectedException("the destination was silent past the cluster's ActivityTimeout", settings!.ActivityTimeout!.Value, ex));
        }
        catch (OperationCanceledException ex) when (!caller.IsCancellationRequested)
        {
            // Nobody above cancelled: the handler gave up by itself (its ConnectTimeout), a connection failure.
            ReportHealth(cluster, destination, failed: true);
            return Outcome.FromException<DownstreamResponse>(new HttpRequestException("the connection to the destination timed out", ex));
        }
        catch (Exception ex)
        {
            if (ex is HttpRequestException or IOException && !caller.IsCancellationRequested)
            {
                ReportHealth(cluster, destination, failed: true);
            }

            return Outcome.FromException<DownstreamResponse>(ex);
        }
        finally
        {
            DestinationCounters.Exit(cluster, destination);
            await activityLink.DisposeAsync().ConfigureAwait(false);
            activityTimeout?.Dispose();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<DownstreamResponse> ReadAsync(HttpResponseMessage response, DownstreamService downstream, string destination, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        if (status is < 200 or > 299)
        {
            return DownstreamResponse.Failed(status, ResponseProblem.HttpStatus, RetryAfterOf(response, timeProvider), destination);
        }

        var body = await ResponseBody.ReadAsync(response.Content, downstream.MaxResponseBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return DownstreamResponse.Failed(status, ResponseProblem.TooLarge, null, destination);
        }

        if (!ResponseBody.IsJson(body.Span))
        {
            body.Release();
            return DownstreamResponse.Failed(status, ResponseProblem.NotJson, null, destination);
        }

        return DownstreamResponse.Ok(status, body, destination, StoreDirectives.Forbidden(response));
    }

    private static TimeSpan? RetryAfterOf(HttpResponseMessage response, TimeProvider timeProvider)
    {
        if (response.Headers.RetryAfter is not { } retryAfter)
        {
            return null;
        }

        var delay = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - timeProvider.GetUtcNow() : null);
        return delay is { } d && d > TimeSpan.Zero ? d : null;
    }

    private DestinationState? Pick(DownstreamCall call, ClusterState cluster)
    {
        var available = cluster.DestinationsState.AvailableDestinations;
        if (call.HasTriedAny && available.Count > 1)
        {
            // A hedge or a retry goes to a destination this call has not tried, while there is one.
            var untried = available.Where(d => !call.HasTried(d)).ToArray();
            if (untried.Length > 0)
            {
                available = untried;
            }
        }

        switch (available.Count)
        {
            case 0:
                return null;
            case 1:
                return available[0];
        }

        var policyName = cluster.Model.Config.LoadBalancingPolicy ?? LoadBalancingPolicies.PowerOfTwoChoices;
        return _balancers.TryGetValue(policyName, out var policy)
            ? policy.PickDestination(call.Context ?? EmptyContext.Instance, cluster, available)
            : available[0];
    }

    private void ReportHealth(ClusterState cluster, DestinationState destination, bool failed)
    {
        var passive = cluster.Model.Config.HealthCheck?.Passive;
        if (passive?.Enabled != true || !_passiveHealth.TryGetValue(passive.Policy ?? HealthCheckConstants.TransportFailureRate, out var policy))
        {
            return;
        }

        // The policies read the outcome of a proxied request from its HttpContext: give them one that says it.
        var context = new DefaultHttpContext();
        if (failed)
        {
            context.Features.Set<IForwarderErrorFeature>(new AttemptError());
        }

        policy.RequestProxied(context, cluster, destination);
    }

    private sealed class AttemptError : IForwarderErrorFeature
    {
        public ForwarderError Error => ForwarderError.Request;

        public Exception? Exception => null;
    }

    private static class EmptyContext
    {
        public static readonly HttpContext Instance = new DefaultHttpContext();
    }

    private static class HealthCheckConstants
    {
        public const string TransportFailureRate = "TransportFailureRate";
    }
}

/// <summary>The cluster has no destination available (all unhealthy, or none configured).</summary>
internal sealed class NoDestinationException() : Exception("no available destination");
