namespace Gateway.Configuration;

/// <summary>Deadline propagation (<c>Gateway:Deadline</c>).</summary>
public sealed record DeadlineOptions
{
    /// <summary>Header carrying the time left in whole milliseconds, read from clients and sent on every downstream call.</summary>
    /// <value>Defaults to <c>X-Request-Budget-Ms</c>.</value>
    public string Header { get; init; } = "X-Request-Budget-Ms";

    /// <summary>A source with less time than this left is not called (<c>timeout</c>).</summary>
    /// <value>Defaults to 5 ms.</value>
    public TimeSpan MinBudget { get; init; } = TimeSpan.FromMilliseconds(5);
}
