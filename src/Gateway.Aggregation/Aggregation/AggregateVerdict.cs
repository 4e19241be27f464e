using Gateway.Model;

namespace Gateway.Aggregation;

/// <summary>The answer's status code and completeness, from what became of the sources.</summary>
internal readonly record struct AggregateVerdict(int StatusCode, bool Complete, TimeSpan? RetryAfter = null)
{
    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(1);

    /// <summary>
    /// 200 when every required source succeeded. Otherwise, by precedence: 504 when a required source timed
    /// out (its own timeout or the deadline, also when that is why it was skipped); 502 when a downstream
    /// failed it otherwise; 503 when the gateway itself did not let it through (<c>rejected</c>,
    /// <c>circuit_open</c>, <c>cancelled</c>), with the longest Retry-After among those.
    /// </summary>
    public static AggregateVerdict From(AggregateDefinition definition, SourceResult[] results)
    {
        var status = StatusCodes.Status200OK;
        var complete = true;
        TimeSpan? retryAfter = null;
        for (var i = 0; i < results.Length; i++)
        {
            var result = results[i];
            if (result.IsOk)
            {
                continue;
            }

            complete = false;
            if (!definition.Sources[i].Required)
            {
                continue;
            }

            var cause = result.Cause;
            var own = cause == SourceOutcome.Timeout ? StatusCodes.Status504GatewayTimeout
                : cause.IsRefusal() ? StatusCodes.Status503ServiceUnavailable
                : StatusCodes.Status502BadGateway;
            if (own == StatusCodes.Status503ServiceUnavailable)
            {
                var after = result.RetryAfter ?? DefaultRetryAfter;
                retryAfter = retryAfter is { } r && r > after ? r : after;
            }

            status = Rank(own) > Rank(status) ? own : status;
        }

        return new AggregateVerdict(status, complete, status == StatusCodes.Status503ServiceUnavailable ? retryAfter : null);
    }

    private static int Rank(int status) => status switch
    {
        StatusCodes.Status504GatewayTimeout => 3,
        StatusCodes.Status502BadGateway => 2,
        StatusCodes.Status503ServiceUnavailable => 1,
        _ => 0,
    };
}
