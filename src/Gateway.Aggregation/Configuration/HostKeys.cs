namespace Gateway.Configuration;

/// <summary>Keys the gateway's own host writes into the configuration it builds, for the engine's start-up report.</summary>
internal static class HostKeys
{
    /// <summary>The file the host read its configuration from; absent when the engine is embedded.</summary>
    public const string ConfigurationFile = "GatewayHost:ConfigurationFile";
}
