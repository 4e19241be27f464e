namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>
/// Bounded polling, for state the gateway reaches on its own clock (a circuit's break ending, a health
/// check marking a destination) and that no signal announces. Fails the test when the limit passes.
/// </summary>
public static class Poll
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    /// <summary>Runs <paramref name="attempt"/> until it returns a value <paramref name="done"/> accepts; at most <paramref name="limit"/> (default <see cref="Signal.Patience"/>).</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> attempt, Func<T, bool> done, string what, TimeSpan? limit = null)
    {
        var until = DateTime.UtcNow + (limit ?? Signal.Patience);
        while (true)
        {
            var value = await attempt();
            if (done(value))
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < until, $"{what} did not happen within {limit ?? Signal.Patience}; last seen: {value}");
            await Task.Delay(Interval);
        }
    }

    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? limit = null) =>
        UntilAsync(() => Task.FromResult(condition()), done => done, what, limit);
}
