namespace Gateway.Downstream;

/// <summary>
/// What one attempt of a downstream call brought back: an HTTP status and, for a 2xx with a valid JSON
/// body, that body in a pooled buffer. Disposing returns the buffer; the resilience pipeline disposes the
/// answers it discards (a retried 503, a hedge that lost).
/// </summary>
internal sealed class DownstreamResponse : IDisposable
{
    private DownstreamResponse(int status, ResponseProblem problem, PooledBody? body, TimeSpan? retryAfter, string? destination)
    {
        Status = status;
        Problem = problem;
        Body = body;
        RetryAfter = retryAfter;
        Destination = destination;
    }

    public int Status { get; }

    public ResponseProblem Problem { get; }

    /// <summary>The validated JSON body when <see cref="Problem"/> is <see cref="ResponseProblem.None"/>.</summary>
    public PooledBody? Body { get; private set; }

    /// <summary>The downstream's <c>Retry-After</c>, on a 429 or 503.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Id of the destination that answered.</summary>
    public string? Destination { get; }

    /// <summary>Why a shared cache must not keep this answer (<see cref="StoreDirectives"/>), or null when it may.</summary>
    public string? StoreForbidden { get; private init; }

    public bool IsSuccess => Problem == ResponseProblem.None;

    /// <summary>A status that says "try again" (408, 429, 5xx): retried and counted by the breaker.</summary>
    public bool IsTransient => Problem == ResponseProblem.HttpStatus && IsTransientStatus(Status);

    public static bool IsTransientStatus(int status) => status is 408 or 429 or >= 500;

    /// <summary>A proxied request that failed the way the breaker counts (routes report to the same breaker).</summary>
    public static readonly DownstreamResponse ProxiedFailure = new(StatusCodes.Status502BadGateway, ResponseProblem.HttpStatus, null, null, null);

    /// <summary>A proxied request the breaker counts as a success.</summary>
    public static readonly DownstreamResponse ProxiedSuccess = new(StatusCodes.Status200OK, ResponseProblem.None, null, null, null);

    public static DownstreamResponse Ok(int status, PooledBody body, string? destination, string? storeForbidden = null) =>
        new(status, ResponseProblem.None, body, null, destination) { StoreForbidden = storeForbidden };

    public static DownstreamResponse Failed(int status, ResponseProblem problem, TimeSpan? retryAfter, string? destination) =>
        new(status, problem, null, retryAfter, destination);

    /// <summary>Hands the body over to the caller: disposing this answer no longer returns it.</summary>
    public PooledBody? TakeBody()
    {
        var body = Body;
        Body = null;
        return body;
    }

    public void Dispose() => TakeBody()?.Release();
}

/// <summary>Why an answer that arrived is not a usable body.</summary>
internal enum ResponseProblem
{
    None,
    HttpStatus,
    TooLarge,
    NotJson,
}
