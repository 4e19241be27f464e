using System.Collections.Concurrent;

namespace Gateway.Logging;

/// <summary>
/// One <see cref="LogThrottle"/> per key: a line per source, per route, per interval. The keys are names from the
/// configuration (never a client's value), so the table is bounded by the configuration.
/// </summary>
internal sealed class KeyedLogThrottle<TKey>(TimeProvider timeProvider, TimeSpan interval)
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, LogThrottle> _throttles = new();
    private readonly Func<TKey, LogThrottle> _create = _ => new LogThrottle(timeProvider, interval);

    /// <summary>See <see cref="LogThrottle.TryEnter"/>, for <paramref name="key"/>'s own window.</summary>
    public bool TryEnter(TKey key, out int suppressed) => _throttles.GetOrAdd(key, _create).TryEnter(out suppressed);
}
