namespace Gateway.Configuration;

/// <summary>The management endpoints under <c>/gateway</c> (<c>Gateway:Management</c>).</summary>
public sealed record ManagementOptions
{
    /// <summary>Maps the management endpoints.</summary>
    /// <value>Defaults to false.</value>
    public bool Enabled { get; init; }

    /// <summary>The key every management request must carry in <c>X-Api-Key</c>; required when enabled.</summary>
    public string? ApiKey { get; init; }
}
