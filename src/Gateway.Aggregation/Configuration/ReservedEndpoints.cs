namespace Gateway.Configuration;

/// <summary>
/// A feature's own endpoints (health probes, the scrape endpoint, management, the OpenAPI document), which no
/// aggregate may take: each feature registers one of these beside its services, and the catalog claims what they
/// return before the aggregates, so that a clash is a start-up error naming both. The engine so needs to know no
/// feature's paths.
/// </summary>
internal interface IReservedEndpoints
{
    /// <summary>The endpoints the feature maps under <paramref name="options"/> (none when it is off).</summary>
    IEnumerable<ReservedEndpoint> Reserve(GatewayOptions options);
}

/// <summary>One path (with its methods, null for any) and who serves it, as a clash names it.</summary>
internal readonly record struct ReservedEndpoint(string Path, string[]? Methods, string Owner);
