using System.Globalization;
using System.Threading.RateLimiting;
using Gateway.Aggregation;

namespace Gateway.Limits;

/// <summary>The answers of the inbound limits: 429 (a rate limit) and 503 (overload), problem+json with <c>Retry-After</c>.</summary>
internal static class LimitRejection
{
    /// <summary>Seconds a shed client is asked to wait: overload is momentary and clients retry with backoff.</summary>
    public const int OverloadRetryAfterSeconds = 1;

    public static Task WriteRateLimitedAsync(HttpContext context, RateLimitLease lease, string scope)
    {
        // The limiter's own figure (for a fixed window: the window), rounded up to whole seconds, at least 1.
        var seconds = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
            ? Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds))
            : 1;
        return WriteAsync(context, StatusCodes.Status429TooManyRequests, seconds, "Too many requests",
            $"The {scope} request limit is reached; retry after {seconds.ToString(CultureInfo.InvariantCulture)} s.");
    }

    public static Task WriteOverloadedAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status503ServiceUnavailable, OverloadRetryAfterSeconds, "Overloaded",
            "The gateway is handling as many requests as it is configured to; retry shortly.");

    private static Task WriteAsync(HttpContext context, int status, long retryAfterSeconds, string title, string detail)
    {
        var headers = context.Response.Headers;
        headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        if (GatewayTraffic.Aggregate(context) is not null)
        {
            // Every answer of an aggregate says whether it is complete, the refusals included.
            headers[AggregateEndpoint.CompleteHeader] = "false";
        }

        return Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);
    }
}
