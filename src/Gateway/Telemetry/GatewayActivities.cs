using System.Diagnostics;
using Gateway.Aggregation;
using Gateway.Downstream;
using Gateway.Model;
using Polly.CircuitBreaker;
using Polly.Timeout;
using static Gateway.Telemetry.TelemetryTags;

namespace Gateway.Telemetry;

/// <summary>
/// The gateway's spans, on <see cref="GatewayTelemetry.Source"/>: <c>aggregate {name}</c> under ASP.NET Core's
/// request span, <c>source {name}</c> under it, <c>attempt {cluster}</c> under a source whose downstream
/// retries or hedges, <c>refresh {dataset}</c> for a dataset's background refresh. With nothing listening
/// (or not sampled) every start returns null and costs a check; names and tags are built only for a span
/// that records.
/// </summary>
internal static class GatewayActivities
{
    // Boxed once: a bool tag would otherwise box on every span.
    private static readonly object True = true;
    private static readonly object False = false;

    public static Activity? StartAggregate(string aggregate)
    {
        if (!GatewayTelemetry.Source.HasListeners())
        {
            return null;
        }

        var activity = GatewayTelemetry.Source.StartActivity("aggregate " + aggregate, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(Aggregate, aggregate);
        }

        return activity;
    }

    public static void EndAggregate(Activity? activity, int status, bool? complete)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        activity.SetTag(HttpStatus, GatewayMetrics.Status(status));
        if (complete is { } c)
        {
            activity.SetTag(Complete, c ? True : False);
        }

        if (status >= 500)
        {
            // OpenTelemetry's HTTP convention: the status code is the error type of a failed server answer.
            activity.SetTag(ErrorType, GatewayMetrics.Status(status).ToString());
            activity.SetStatus(ActivityStatusCode.Error);
        }
    }

    /// <summary>A source's span, a child of its aggregate's (explicitly: a dependent source starts on the flow of the source it waited for).</summary>
    public static Activity? StartSource(Activity aggregate, string aggregateName, SourceDefinition source)
    {
        var activity = GatewayTelemetry.Source.StartActivity("source " + source.Name, ActivityKind.Internal, aggregate.Context);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(Aggregate, aggregateName);
            activity.SetTag(Source, source.Name);
            activity.SetTag(Required, source.Required ? True : False);
            if (source.CachedData is { } dataset)
            {
                activity.SetTag(Dataset, dataset);
            }
            else
            {
                activity.SetTag(Cluster, source.Cluster);
            }

            if (source.Kind != SourceKind.Call)
            {
                activity.SetTag(Cache, source.Kind == SourceKind.CachedData ? "dataset" : "response");
            }
        }

        return activity;
    }

    public static void EndSource(Activity? activity, SourceResult result)
    {
        if (activity is null)
        {
            return;
        }

        if (activity.IsAllDataRequested)
        {
            var outcome = result.Outcome.ToName();
            activity.SetTag(Outcome, outcome);
            if (result.Status is { } status)
            {
                activity.SetTag(HttpStatus, GatewayMetrics.Status(status));
            }

            if (result.Attempts > 0)
            {
                activity.SetTag(Attempts, GatewayMetrics.Status(result.Attempts));
            }

            if (result.Cache != Model.CacheState.None)
            {
                activity.SetTag(TelemetryTags.CacheState, result.Cache == Model.CacheState.Fresh ? "fresh" : "stale");
            }

            if (!result.IsOk)
            {
                activity.SetTag(ErrorType, outcome);
                activity.SetStatus(ActivityStatusCode.Error, result.Message);
            }
        }

        activity.Dispose();
    }

    /// <summary>One attempt of a call whose downstream retries or hedges, a child of the call's span.</summary>
    public static Activity? StartAttempt(Activity parent, DownstreamCall call, int number)
    {
        var activity = GatewayTelemetry.Source.StartActivity("attempt " + call.Downstream.Id, ActivityKind.Internal, parent.Context);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(Cluster, call.Downstream.Id);
            activity.SetTag(AttemptNumber, GatewayMetrics.Status(number));
            if (parent.GetTagItem(Aggregate) is { } aggregate)
            {
                activity.SetTag(Aggregate, aggregate);
            }

            if (parent.GetTagItem(Source) is { } source)
            {
                activity.SetTag(Source, source);
            }
        }

        return activity;
    }

    /// <summary>Ends an attempt's span with what it brought back, or what it threw (<paramref name="response"/> null).</summary>
    public static void EndAttempt(Activity? activity, DownstreamResponse? response, Exception? exception)
    {
        if (activity is null)
        {
            return;
        }

        if (activity.IsAllDataRequested)
        {
            var outcome = response is not null ? OutcomeOf(response) : OutcomeOf(exception);
            activity.SetTag(Outcome, outcome);
            if (response is not null)
            {
                activity.SetTag(HttpStatus, GatewayMetrics.Status(response.Status));
            }

            if (outcome != "ok")
            {
                activity.SetTag(ErrorType, outcome);
                activity.SetStatus(ActivityStatusCode.Error);
            }
        }

        activity.Dispose();
    }

    /// <summary>The destination a call's attempt went to, on the span of the attempt (or of the call when attempts have none).</summary>
    public static void SetDestination(DownstreamCall call, string destination)
    {
        if (call.Span is not { } span)
        {
            return;
        }

        if (span.IsAllDataRequested)
        {
            span.SetTag(Destination, destination);
        }

        // An attempt span is the current activity of the attempt's own flow.
        if (Activity.Current is { IsAllDataRequested: true } current && !ReferenceEquals(current, span) && ReferenceEquals(current.Source, GatewayTelemetry.Source))
        {
            current.SetTag(Destination, destination);
        }
    }

    /// <summary>A cached dataset's refresh: a root span of its own (it serves no one request).</summary>
    public static Activity? StartRefresh(string dataset)
    {
        if (!GatewayTelemetry.Source.HasListeners())
        {
            return null;
        }

        // No parent: the worker's flow may carry whatever started the host.
        var previous = Activity.Current;
        Activity.Current = null;
        var activity = GatewayTelemetry.Source.StartActivity("refresh " + dataset, ActivityKind.Internal);
        if (activity is null)
        {
            Activity.Current = previous;
        }
        else if (activity.IsAllDataRequested)
        {
            activity.SetTag(Dataset, dataset);
        }

        return activity;
    }

    public static void EndRefresh(Activity? activity, string outcome)
    {
        if (activity is null)
        {
            return;
        }

        if (activity.IsAllDataRequested)
        {
            activity.SetTag(Outcome, outcome);
            if (outcome != "ok")
            {
                activity.SetTag(ErrorType, outcome);
                activity.SetStatus(ActivityStatusCode.Error);
            }
        }

        activity.Dispose();
    }

    private static string OutcomeOf(DownstreamResponse response) => response.Problem switch
    {
        ResponseProblem.None => "ok",
        ResponseProblem.HttpStatus => "http_status",
        _ => "invalid_response",
    };

    private static string OutcomeOf(Exception? exception) => exception switch
    {
        BrokenCircuitException => "circuit_open",
        TimeoutRejectedException => "timeout",
        OperationCanceledException => "cancelled",
        NoDestinationException or HttpRequestException or IOException => "unavailable",
        _ => exception?.GetType().FullName ?? "unknown",
    };
}
