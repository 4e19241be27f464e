using System.Diagnostics;
using Gateway.Model;
using Gateway.Telemetry;
using static Gateway.Telemetry.TelemetryTags;

namespace Gateway.Aggregation;

/// <summary>A source's span, <c>source {name}</c>, a child of its aggregate's (see <see cref="GatewayActivities"/>).</summary>
internal static class SourceActivities
{
    /// <summary>A source's span, a child of its aggregate's (explicitly: a dependent source starts on the flow of the source it waited for).</summary>
    public static Activity? StartSource(Activity aggregate, string aggregateName, SourceDefinition source)
    {
        var activity = GatewayTelemetry.Source.StartActivity(source.SpanName, ActivityKind.Internal, aggregate.Context);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(Aggregate, aggregateName);
            activity.SetTag(Source, source.Name);
            activity.SetTag(Required, GatewayActivities.Bool(source.Required));
            if (source.CachedData is { } dataset)
            {
                activity.SetTag(Dataset, dataset);
            }
            else
            {
                // What the HttpClient span would say (it is off for aggregate calls unless Gateway:Telemetry:HttpClientSpans).
                activity.SetTag(Cluster, source.Cluster);
                activity.SetTag(RequestMethod, "GET");
                activity.SetTag(UrlTemplate, source.Path.Text);
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
}
