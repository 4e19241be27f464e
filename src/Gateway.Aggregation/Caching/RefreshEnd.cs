namespace Gateway.Caching;

/// <summary>How a refresh ended, for the scheduler: when the dataset's next refresh is due.</summary>
internal readonly record struct RefreshEnd(TimeSpan? Delay, TimeSpan Age)
{
    /// <summary>The interval after a success, the back-off after a failure, from now.</summary>
    public static RefreshEnd Scheduled => default;

    /// <summary>The copy came from the shared store already <paramref name="age"/> old: the interval counts from when it loaded.</summary>
    public static RefreshEnd CopyAged(TimeSpan age) => new(null, age);

    /// <summary>Look again after exactly <paramref name="delay"/>.</summary>
    public static RefreshEnd After(TimeSpan delay) => new(delay, TimeSpan.Zero);
}
