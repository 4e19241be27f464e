namespace Gateway.Logging;

/// <summary>
/// Settles the request's <c>X-Request-Id</c> before anything else reads it: the client's when well-formed, else a
/// new one. The settled id replaces the inbound header (so pass-through routes and aggregate calls forward it,
/// and nothing forwards what the client sent), becomes <see cref="HttpContext.TraceIdentifier"/>, is echoed on
/// every answer, and sits in a log scope around the rest of the pipeline.
/// </summary>
internal sealed class RequestIdMiddleware(RequestDelegate next, TimeProvider timeProvider, ILogger<RequestIdMiddleware> logger)
{
    private static readonly Func<object, Task> Echo = static state =>
    {
        var context = (HttpContext)state;
        // The settled id is the trace identifier too: one field read, not a lookup among the request's headers.
        context.Response.Headers[RequestId.Header] = context.TraceIdentifier;
        return Task.CompletedTask;
    };

    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Request.Headers;
        var sent = headers[RequestId.Header];
        var id = sent.Count == 1 ? sent[0] : null;
        if (RequestId.Problem(sent) is { } problem)
        {
            id = RequestId.Generate(timeProvider);
            headers[RequestId.Header] = id;
            if (sent.Count > 0)
            {
                Log.RequestIdReplaced(logger, problem, id);
            }
        }

        context.TraceIdentifier = id!;

        // At the start of the response: whatever the endpoint, YARP or an error handler set before is overwritten.
        context.Response.OnStarting(Echo, context);
        return InvokeInScopeAsync(context, id!);
    }

    private async Task InvokeInScopeAsync(HttpContext context, string id)
    {
        using (logger.BeginScope(new RequestIdScope(id)))
        {
            await next(context).ConfigureAwait(false);
        }
    }
}
