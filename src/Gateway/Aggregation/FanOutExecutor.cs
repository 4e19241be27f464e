using Gateway.Downstream;

namespace Gateway.Aggregation;

/// <summary>
/// Runs the sources of one aggregate request: independent sources at once, a dependent source the moment
/// its inputs are done, at most <see cref="AggregateDefinition.MaxParallel"/> at a time, none past the
/// deadline. Each call gets its own timeout and goes through its downstream's concurrency gate.
/// </summary>
internal sealed partial class FanOutExecutor(DownstreamTransport transport, TimeProvider timeProvider, ILogger<FanOutExecutor> logger)
{
    private readonly ILogger _logger = logger;

    /// <summary>
    /// Runs every source and returns their results by source index once all are settled. Cancelling
    /// <paramref name="cancellationToken"/> (the client went away) cancels every call in flight at once.
    /// The caller returns the bodies' buffers (<see cref="PooledBody.Return"/>).
    /// </summary>
    public async Task<SourceResult[]> ExecuteAsync(AggregatePlan plan, AggregateRequest request, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(plan.Definition.Timeout, timeProvider);
        using var link = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), deadline);
        var run = new FanOutRun(this, plan, request, deadline.Token);
        await run.RunAsync().ConfigureAwait(false);
        return run.Results;
    }

    private async Task<SourceResult> CallAsync(FanOutRun run, int index)
    {
        var plan = run.Plan;
        var source = plan.Definition.Sources[index];
        var downstream = plan.Downstreams[index];
        var messages = plan.Messages[index];
        var started = timeProvider.GetTimestamp();
        if (run.Deadline.IsCancellationRequested)
        {
            return SourceResult.Failed(SourceOutcome.Timeout, Elapsed(started), messages.Deadline);
        }

        Uri? uri;
        Placeholder? missing;
        try
        {
            uri = plan.GetUri(index, run, out missing);
        }
        catch (UriFormatException)
        {
            return SourceResult.Skipped("not called: its address could not be built from the values (too long)", SourceOutcome.Skipped);
        }

        if (uri is null)
        {
            var reason = PathTemplate.IsDotSegment(run.Get(missing!)) ? "is '.' or '..', which cannot be sent as a path segment" : "has no value";
            return SourceResult.Skipped($"not called: {{{missing!.Name}}} {reason}", SourceOutcome.Skipped);
        }

        using var timeout = new CancellationTokenSource(source.Timeout, timeProvider);
        using var link = run.Deadline.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
        var cancellationToken = timeout.Token;
        var entered = false;
        try
        {
            if (!await downstream.Gate.TryEnterAsync(cancellationToken).ConfigureAwait(false))
            {
                return SourceResult.Failed(SourceOutcome.Rejected, Elapsed(started), messages.Rejected);
            }

            entered = true;
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.TryAddWithoutValidation("Accept", "application/json");
            foreach (var (name, values) in run.Request.Headers)
            {
                request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }

            using var response = await transport.Invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status is < 200 or > 299)
            {
                return SourceResult.Failed(SourceOutcome.HttpStatus, Elapsed(started), messages.HttpStatus(status), status);
            }

            var body = await ResponseBody.ReadAsync(response.Content, downstream.MaxResponseBytes, cancellationToken).ConfigureAwait(false);
            if (body is null)
            {
                return SourceResult.Failed(SourceOutcome.InvalidResponse, Elapsed(started), messages.TooLarge, status);
            }

            if (!ResponseBody.IsJson(body.Span))
            {
                body.Return();
                return SourceResult.Failed(SourceOutcome.InvalidResponse, Elapsed(started), messages.NotJson, status);
            }

            return SourceResult.Ok(status, Elapsed(started), body);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            return SourceResult.Failed(SourceOutcome.Timeout, Elapsed(started), run.Deadline.IsCancellationRequested ? messages.Deadline : messages.Timeout);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return SourceResult.Failed(SourceOutcome.Unavailable, Elapsed(started), messages.Unavailable);
        }
        finally
        {
            if (entered)
            {
                downstream.Gate.Exit();
            }
        }
    }

    private long Elapsed(long started) => (long)timeProvider.GetElapsedTime(started).TotalMilliseconds;
}
