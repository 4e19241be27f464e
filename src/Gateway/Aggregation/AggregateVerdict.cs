namespace Gateway.Aggregation;

/// <summary>The answer's status code and completeness, from what became of the sources.</summary>
internal readonly record struct AggregateVerdict(int StatusCode, bool Complete)
{
    /// <summary>
    /// 200 when every required source succeeded; else 504 when a required source timed out (its own
    /// timeout or the deadline, also when that is why it was skipped), else 502.
    /// </summary>
    public static AggregateVerdict From(AggregateDefinition definition, SourceResult[] results)
    {
        var status = StatusCodes.Status200OK;
        var complete = true;
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i].IsOk)
            {
                continue;
            }

            complete = false;
            if (definition.Sources[i].Required)
            {
                status = results[i].Cause == SourceOutcome.Timeout ? StatusCodes.Status504GatewayTimeout
                    : status == StatusCodes.Status504GatewayTimeout ? status
                    : StatusCodes.Status502BadGateway;
            }
        }

        return new AggregateVerdict(status, complete);
    }
}
