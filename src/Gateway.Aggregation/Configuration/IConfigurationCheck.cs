namespace Gateway.Configuration;

/// <summary>
/// A check of configuration the engine's own checks do not cover (the host's Kestrel limits, YARP's values in the
/// file, the Redis connection string of the sharing package), run with them so that every bad key is reported at
/// once, each named.
/// </summary>
internal interface IConfigurationCheck
{
    /// <param name="options">The <c>Gateway</c> section as bound.</param>
    void Check(GatewayOptions options, List<string> errors);
}
