using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Threading.RateLimiting;
using Gateway.Model;
using Gateway.Telemetry;
using Microsoft.AspNetCore.RateLimiting;

namespace Gateway.Limits;

/// <summary>
/// The answers of the inbound limits: 429 (a rate limit) and 503 (overload), problem+json with <c>Retry-After</c>;
/// an aggregate's refusals are recorded in <c>gateway.aggregate.duration</c> with their status.
/// The bodies are encoded once and written as bytes, not through <c>IProblemDetailsService</c>: under a flood or
/// overload, refusing a request must cost far less than serving one.
/// </summary>
internal static class LimitRejection
{
    /// <summary>Seconds a shed client is asked to wait: overload is momentary and clients retry with backoff.</summary>
    public const int OverloadRetryAfterSeconds = 1;

    private static readonly byte[] OverloadedBody = Encode(
        StatusCodes.Status503ServiceUnavailable,
        "https://tools.ietf.org/html/rfc9110#section-15.6.4",
        "Overloaded",
        "The gateway is handling as many requests as it is configured to; retry shortly.");

    // One body per scope and Retry-After: a handful, since windows come from the configuration.
    private static readonly ConcurrentDictionary<(string Scope, long Seconds), byte[]> RateLimitedBodies = new();

    /// <summary>The rate limiter's rejection callback for a limit of <paramref name="scope"/>: logs it (Debug) and answers 429.</summary>
    public static Func<OnRejectedContext, CancellationToken, ValueTask> OnRateLimited(string scope, TimeProvider clock, GatewayMetrics metrics, ILogger logger) => (context, _) =>
    {
        var http = context.HttpContext;
        Log.RequestRateLimited(logger, http.Request.Method, http.GetEndpoint()?.DisplayName, scope);
        return new ValueTask(WriteRateLimitedAsync(http, context.Lease, scope, clock, metrics));
    };

    private static Task WriteRateLimitedAsync(HttpContext context, RateLimitLease lease, string scope, TimeProvider clock, GatewayMetrics metrics)
    {
        // The limiter's own figure (for a fixed window: the window), rounded up to whole seconds, at least 1.
        var seconds = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
            ? Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds))
            : 1;
        var body = RateLimitedBodies.GetOrAdd((scope, seconds), key => Encode(
            StatusCodes.Status429TooManyRequests,
            "https://tools.ietf.org/html/rfc6585#section-4",
            "Too many requests",
            $"The {key.Scope} request limit is reached; retry after {key.Seconds.ToString(CultureInfo.InvariantCulture)} s."));
        return WriteAsync(context, StatusCodes.Status429TooManyRequests, seconds, body, clock, metrics);
    }

    public static Task WriteOverloadedAsync(HttpContext context, TimeProvider clock, GatewayMetrics metrics) =>
        WriteAsync(context, StatusCodes.Status503ServiceUnavailable, OverloadRetryAfterSeconds, OverloadedBody, clock, metrics);

    private static async Task WriteAsync(HttpContext context, int status, long retryAfterSeconds, byte[] body, TimeProvider clock, GatewayMetrics metrics)
    {
        var aggregate = GatewayTraffic.Aggregate(context);
        var started = clock.GetTimestamp();
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/problem+json";
        response.ContentLength = body.Length;
        var headers = response.Headers;
        headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        if (aggregate is not null)
        {
            // Every answer of an aggregate says whether it is complete, the refusals included.
            headers[GatewayTraffic.CompleteHeader] = "false";
        }

        try
        {
            await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            if (aggregate is not null)
            {
                // Refusals count among the aggregate's answers, by status as the endpoint counts its own, with the
                // time the refusal took: microseconds, so latency panels filter by status.
                metrics.RecordAggregate(aggregate.Name, GatewayTraffic.AnsweredStatus(context), clock.GetElapsedTime(started).TotalMilliseconds);
            }
        }
    }

    private static byte[] Encode(int status, string type, string title, string detail)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", type);
            writer.WriteString("title", title);
            writer.WriteNumber("status", status);
            writer.WriteString("detail", detail);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
