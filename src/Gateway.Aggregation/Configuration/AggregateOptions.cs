namespace Gateway.Configuration;

/// <summary>One aggregate: an endpoint that fans out to its sources and merges their answers.</summary>
public sealed record AggregateOptions
{
    /// <summary>ASP.NET Core route template of the endpoint, e.g. <c>/api/dashboard/{userId}</c>.</summary>
    public string? Route { get; init; }

    /// <summary>HTTP method of the endpoint.</summary>
    /// <value>Defaults to GET.</value>
    public string Method { get; init; } = "GET";

    /// <summary>Deadline of the whole request; no source runs past it.</summary>
    /// <value>Defaults to 5 seconds.</value>
    public TimeSpan? Timeout { get; init; }

    /// <summary>How many sources of one request may run at the same time.</summary>
    /// <value>Defaults to 16.</value>
    public int MaxParallel { get; init; } = 16;

    /// <summary>Once a required source has failed, answer at once and cancel the calls still running.</summary>
    /// <value>Defaults to true.</value>
    public bool FailFast { get; init; } = true;

    /// <summary>Requests to this aggregate per window, across all clients; over it a 429.</summary>
    /// <value>Defaults to no limit.</value>
    public RateLimitOptions? RateLimit { get; init; }

    /// <summary>One line on what the aggregate answers, the operation's summary in the OpenAPI document and Swagger UI.</summary>
    /// <value>Defaults to <c>Aggregate {name}</c>.</value>
    public string? Summary { get; init; }

    /// <summary>What the aggregate is for (Markdown), above the generated account of its sources in the OpenAPI document.</summary>
    /// <value>Defaults to none.</value>
    public string? Description { get; init; }

    /// <summary>The sources, keyed by the name they get in <c>data</c>.</summary>
    public Dictionary<string, SourceOptions> Sources { get; init; } = [];
}
