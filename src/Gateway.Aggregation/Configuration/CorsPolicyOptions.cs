namespace Gateway.Configuration;

/// <summary>Cross-origin requests from browsers (<c>Gateway:Cors</c>); no origins means no CORS headers at all.</summary>
public sealed record CorsPolicyOptions
{
    /// <summary>Origins allowed to call the gateway from a browser (<c>https://app.example.com</c>), or <c>*</c> for any.</summary>
    /// <value>Defaults to none: CORS off.</value>
    public List<string> AllowedOrigins { get; init; } = [];

    /// <summary>Methods a cross-origin request may use, or <c>*</c> for any.</summary>
    /// <value>Defaults to <c>GET</c>, <c>HEAD</c>.</value>
    public List<string> AllowedMethods { get; init; } = [];

    /// <summary>Request headers a cross-origin request may carry besides the CORS-safelisted ones, or <c>*</c> for any.</summary>
    /// <value>Defaults to none.</value>
    public List<string> AllowedHeaders { get; init; } = [];

    /// <summary>Response headers a browser script may read besides the safelisted ones.</summary>
    /// <value>Defaults to <c>X-Aggregate-Complete</c>, <c>Retry-After</c>, <c>X-Request-Id</c>.</value>
    public List<string> ExposedHeaders { get; init; } = [];

    /// <summary>Whether cookies and <c>Authorization</c> may be sent cross-origin; not with origin <c>*</c>.</summary>
    /// <value>Defaults to false.</value>
    public bool AllowCredentials { get; init; }

    /// <summary>How long a browser may cache a preflight answer.</summary>
    /// <value>Defaults to 10 minutes.</value>
    public TimeSpan? MaxAge { get; init; }
}
