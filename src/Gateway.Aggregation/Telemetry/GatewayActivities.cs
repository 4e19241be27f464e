using System.Diagnostics;
using static Gateway.Telemetry.TelemetryTags;

namespace Gateway.Telemetry;

/// <summary>
/// The gateway's spans, on <see cref="GatewayTelemetry.Source"/>: <c>aggregate {name}</c> under ASP.NET Core's
/// request span, <c>source {name}</c> under it (<c>Aggregation.SourceActivities</c>), <c>attempt {cluster}</c> under a
/// source for each retry or hedge (the first attempt is the source's own span) (<c>Downstream.AttemptActivities</c>), <c>refresh {dataset}</c> for a
/// dataset's background refresh. Each feature writes the spans of its own types; this is what they share. With nothing listening
/// (or not sampled) every start returns null and costs a check; names and tags are built only for a span
/// that records.
/// </summary>
internal static class GatewayActivities
{
    // Boxed once: a bool tag would otherwise box on every span.
    private static readonly object True = true;
    private static readonly object False = false;

    /// <summary><paramref name="value"/> boxed once, for a tag.</summary>
    public static object Bool(bool value) => value ? True : False;

    /// <summary>An aggregate's span, named <paramref name="spanName"/> (<c>aggregate {name}</c>, built once per aggregate).</summary>
    public static Activity? StartAggregate(string spanName, string aggregate)
    {
        if (!GatewayTelemetry.Source.HasListeners())
        {
            return null;
        }

        var activity = GatewayTelemetry.Source.StartActivity(spanName, ActivityKind.Internal);
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
}
