using System.Globalization;
using Gateway.Downstream;
using Gateway.Model;
using Gateway.Telemetry;

namespace Gateway.Aggregation;

/// <summary>The request delegate of one aggregate: reads the request, runs the fan-out, writes the envelope.</summary>
internal sealed class AggregateEndpoint(AggregatePlan plan, FanOutExecutor executor, GatewayMetrics metrics, TimeProvider timeProvider)
{
    public AggregatePlan Plan => plan;

    public async Task HandleAsync(HttpContext context)
    {
        var started = timeProvider.GetTimestamp();
        var definition = plan.Definition;

        // Every answer is about one request and may carry a user's data: no cache keeps it, no browser sniffs it.
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        using var span = GatewayActivities.StartAggregate(definition.SpanName, definition.Name);
        bool? complete = null;
        var threw = false;
        try
        {
            var clientValues = new string?[definition.ClientValues.Count];
            for (var i = 0; i < clientValues.Length; i++)
            {
                var value = ReadClientValue(context.Request, definition.ClientValues[i]);
                if (string.IsNullOrEmpty(value) && definition.ClientValueRequired[i])
                {
                    await WriteBadValueAsync(context, definition.ClientValues[i], "Missing parameter", "is required by this aggregate and was missing or empty").ConfigureAwait(false);
                    return;
                }

                if (definition.ClientValueInPath[i] && PathTemplate.IsUnsafeSegment(value))
                {
                    await WriteBadValueAsync(context, definition.ClientValues[i], "Invalid parameter", "cannot be '.' or '..' nor contain '/' or '\\': it would change the downstream path").ConfigureAwait(false);
                    return;
                }

                clientValues[i] = value;
            }

            var headers = HeaderPropagation.Select(context.Request.Headers, plan.PropagateHeaders, out var invalidHeader);
            if (invalidHeader is not null)
            {
                await WriteBadHeaderAsync(context, invalidHeader).ConfigureAwait(false);
                return;
            }

            var deadline = RequestBudget.Shorten(definition.Timeout, context.Request.Headers, plan.BudgetHeader);
            SourceResult[]? results = null;
            try
            {
                results = await executor.ExecuteAsync(plan, new AggregateRequest(clientValues, headers, deadline, context, plan.HasCachedCalls ? context.Request.Headers.Authorization : default, span), context.RequestAborted).ConfigureAwait(false);
                if (context.RequestAborted.IsCancellationRequested)
                {
                    return;
                }

                var verdict = AggregateVerdict.From(definition, results);
                complete = verdict.Complete;
                var response = context.Response;
                response.StatusCode = verdict.StatusCode;
                response.ContentType = "application/json; charset=utf-8";
                response.Headers[GatewayTraffic.CompleteHeader] = verdict.Complete ? "true" : "false";
                if (verdict.RetryAfter is { } retryAfter)
                {
                    response.Headers.RetryAfter = RequestBudget.WholeSeconds(retryAfter);
                }

                var elapsedMs = (long)timeProvider.GetElapsedTime(started).TotalMilliseconds;
                EnvelopeWriter.Write(response.BodyWriter, definition, results, verdict, elapsedMs);
                await response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            }
            finally
            {
                foreach (var result in results ?? [])
                {
                    result.Body?.Release();
                }
            }
        }
        catch
        {
            threw = true;
            throw;
        }
        finally
        {
            var status = GatewayTraffic.AnsweredStatus(context, threw);
            metrics.RecordAggregate(definition.Name, status, timeProvider.GetElapsedTime(started).TotalMilliseconds);
            GatewayActivities.EndAggregate(span, status, complete);
        }
    }

    // A route value wins over a query value of the same name.
    private static string? ReadClientValue(HttpRequest request, string name)
    {
        if (request.RouteValues.TryGetValue(name, out var routeValue) && routeValue is not null)
        {
            var text = Convert.ToString(routeValue, CultureInfo.InvariantCulture);
            if (!string.IsNullOrEmpty(text))
            {
                // Kestrel decodes the path except %2F, so a route value holds "%2F" where the client sent a '/'.
                // Read it as the '/' it is, like a query value: refused in a path segment, "%2F" in a query.
                return text.Contains('%', StringComparison.Ordinal) ? text.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase) : text;
            }
        }

        // A repeated query parameter contributes its first value.
        return request.Query.TryGetValue(name, out var queryValue) && queryValue.Count > 0 ? queryValue[0] : null;
    }

    private static Task WriteBadValueAsync(HttpContext context, string name, string title, string problem)
    {
        context.Response.Headers[GatewayTraffic.CompleteHeader] = "false";
        return Results.Problem(
            statusCode: StatusCodes.Status400BadRequest,
            title: title,
            detail: $"The route or query value '{name}' {problem}.",
            extensions: new Dictionary<string, object?> { ["parameter"] = name }).ExecuteAsync(context);
    }

    private static Task WriteBadHeaderAsync(HttpContext context, string name)
    {
        context.Response.Headers[GatewayTraffic.CompleteHeader] = "false";
        return Results.Problem(
            statusCode: StatusCodes.Status400BadRequest,
            title: "Invalid header",
            detail: $"The request header '{name}' contains a control character and cannot be sent downstream.",
            extensions: new Dictionary<string, object?> { ["header"] = name }).ExecuteAsync(context);
    }
}
