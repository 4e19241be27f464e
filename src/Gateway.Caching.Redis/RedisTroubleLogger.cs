using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;

namespace Gateway.Caching.Redis;

/// <summary>
/// The logger FusionCache and its Redis backplane write to: their lines about the distributed level and the
/// backplane (<c>[DC]</c>, <c>[BP]</c>, auto-recovery, or carrying a Redis exception) are written at Debug whatever
/// level they come at. Those are one per operation or per circuit-breaker turn while Redis is away, several lines
/// each with a stack trace; the gateway's own <c>RedisConnectionFailed</c>, throttled, is what tells an operator
/// that Redis is away. FusionCache's options set most of these levels (<see cref="RedisResponseCacheSharing"/>);
/// its circuit-breaker and subscription lines have no option. Every other line of theirs passes unchanged.
/// </summary>
internal sealed class RedisTroubleLogger<T>(ILogger inner) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => inner.BeginScope(state);

    // A Warning may come out at Debug: it is enabled when either is.
    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel) || (logLevel > LogLevel.Debug && inner.IsEnabled(LogLevel.Debug));

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var level = logLevel > LogLevel.Debug && IsAboutRedis(state, exception) ? LogLevel.Debug : logLevel;
        if (inner.IsEnabled(level))
        {
            inner.Log(level, eventId, state, exception, formatter);
        }
    }

    private static bool IsAboutRedis<TState>(TState state, Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is RedisException or FusionCacheDistributedCacheException or FusionCacheBackplaneException or FusionCacheSerializationException)
            {
                return true;
            }
        }

        if (state is IReadOnlyList<KeyValuePair<string, object?>> fields && fields.Count > 0 && fields[^1] is { Key: "{OriginalFormat}", Value: string format })
        {
            return format.Contains("[DC]", StringComparison.Ordinal)
                || format.Contains("[BP]", StringComparison.Ordinal)
                || format.Contains("auto-recovery", StringComparison.OrdinalIgnoreCase);
        }

        return false;
    }
}
