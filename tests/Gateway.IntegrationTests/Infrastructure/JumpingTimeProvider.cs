namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>
/// The system's clock and timers, plus whatever the test jumped ahead: a circuit breaker's break (Polly reads
/// the clock) passes at once, without a test sleeping through it, while deadlines and timeouts (timers) still
/// run in real time. Jump only while no call is in flight: a call's time left is read off the clock.
/// </summary>
public sealed class JumpingTimeProvider : TimeProvider
{
    private long _jumpedTicks;

    public void Jump(TimeSpan by) => Interlocked.Add(ref _jumpedTicks, by.Ticks);

    private TimeSpan Jumped => TimeSpan.FromTicks(Interlocked.Read(ref _jumpedTicks));

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Jumped;

    public override long GetTimestamp() => System.GetTimestamp() + (long)(Jumped.TotalSeconds * System.TimestampFrequency);

    public override long TimestampFrequency => System.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        System.CreateTimer(callback, state, dueTime, period);
}
