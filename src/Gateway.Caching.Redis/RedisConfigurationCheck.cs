using Gateway.Configuration;

namespace Gateway.Caching.Redis;

/// <summary>Refuses a <c>Gateway:Cache:Redis</c> that StackExchange.Redis cannot read, with the engine's other checks.</summary>
internal sealed class RedisConfigurationCheck : IConfigurationCheck
{
    public void Check(GatewayOptions options, List<string> errors) => RedisConnection.CheckConfigured(options.Cache.Redis, "Gateway:Cache:Redis", errors);
}
