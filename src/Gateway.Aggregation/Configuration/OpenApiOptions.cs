namespace Gateway.Configuration;

/// <summary>The OpenAPI document and Swagger UI generated from the configuration (<c>Gateway:OpenApi</c>).</summary>
public sealed record OpenApiOptions
{
    /// <summary>Serves the document at <c>/openapi/v1.json</c> and Swagger UI at <c>/swagger</c>.</summary>
    /// <value>Defaults to true.</value>
    public bool Enabled { get; init; } = true;

    /// <summary>The document's <c>info.title</c>, shown at the top of Swagger UI.</summary>
    /// <value>Defaults to <c>Gateway</c>.</value>
    public string Title { get; init; } = "Gateway";
}
