namespace Gateway.Telemetry;

/// <summary>The names of the tags on the gateway's spans and metrics (OpenTelemetry style: dotted, lowercase).</summary>
internal static class TelemetryTags
{
    public const string Aggregate = "gateway.aggregate";
    public const string Source = "gateway.source";
    public const string Cluster = "gateway.cluster";
    public const string Destination = "gateway.destination";
    public const string Outcome = "gateway.outcome";
    public const string Required = "gateway.required";
    public const string Attempts = "gateway.attempts";
    public const string AttemptNumber = "gateway.attempt.number";
    public const string Complete = "gateway.complete";
    public const string Dataset = "gateway.dataset";

    /// <summary><c>dataset</c> (a cached dataset) or <c>response</c> (the per-source response cache).</summary>
    public const string Cache = "gateway.cache";

    /// <summary>How a cached answer was served: <c>fresh</c> or <c>stale</c>.</summary>
    public const string CacheState = "gateway.cache.state";

    public const string ErrorType = "error.type";
    public const string HttpStatus = "http.response.status_code";
    public const string RequestMethod = "http.request.method";
    public const string UrlTemplate = "url.template";
}
