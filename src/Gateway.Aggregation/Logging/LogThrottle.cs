namespace Gateway.Logging;

/// <summary>
/// Lets one log line through per window and counts the ones held back, so that a Redis that is down for an hour
/// costs a Warning every half minute, not one per refresh, and a source that fails on every request costs one
/// line per interval, not one per request. The line that gets through says how many were held back before it.
/// </summary>
internal sealed class LogThrottle(TimeProvider timeProvider, TimeSpan window)
{
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private long _openAt = long.MinValue;
    private int _suppressed;

    /// <summary>True when this line may be logged; <paramref name="suppressed"/> tells how many were held back since the last one.</summary>
    public bool TryEnter(out int suppressed)
    {
        var now = timeProvider.GetTimestamp();
        lock (_lock)
        {
            if (_openAt != long.MinValue && now < _openAt)
            {
                _suppressed++;
                suppressed = 0;
                return false;
            }

            _openAt = now + (long)(window.TotalSeconds * timeProvider.TimestampFrequency);
            suppressed = _suppressed;
            _suppressed = 0;
            return true;
        }
    }
}
