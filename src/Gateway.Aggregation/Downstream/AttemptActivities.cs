using System.Diagnostics;
using Gateway.Telemetry;
using Polly.CircuitBreaker;
using Polly.Timeout;
using static Gateway.Telemetry.TelemetryTags;

namespace Gateway.Downstream;

/// <summary>An attempt's span, <c>attempt {cluster}</c>, and the destination a call went to (see <see cref="GatewayActivities"/>).</summary>
internal static class AttemptActivities
{
    /// <summary>A retry or hedge of a call (attempt <paramref name="number"/>, 2 or more), a child of the call's span.</summary>
    public static Activity? StartAttempt(Activity parent, DownstreamCall call, int number)
    {
        var activity = GatewayTelemetry.Source.StartActivity(call.Downstream.AttemptSpanName, ActivityKind.Internal, parent.Context);
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
