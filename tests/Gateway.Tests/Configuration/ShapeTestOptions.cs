// In the tests' own namespace on purpose: ConfigurationShape recurses into options records by their shape, wherever they are declared.
namespace Gateway.Tests.Configuration;

internal sealed record ShapeTestOptions
{
    public TimeSpan Interval { get; init; }

    public TimeSpan? Deadline { get; init; }

    public double Ratio { get; init; }

    public int? Attempts { get; init; }

    public bool Enabled { get; init; }

    public ShapeTestBackoff Backoff { get; init; }

    public List<string> Tags { get; init; } = [];

    public ShapeTestRetryOptions? Retry { get; init; }

    public Dictionary<string, ShapeTestRetryOptions> Named { get; init; } = [];

    public List<ShapeTestRetryOptions> Steps { get; init; } = [];
}

internal sealed record ShapeTestRetryOptions
{
    public TimeSpan? Delay { get; init; }

    public ShapeTestBackoff? Backoff { get; init; }

    public List<TimeSpan> Pauses { get; init; } = [];
}

internal enum ShapeTestBackoff
{
    Constant,
    Linear,
    Exponential,
}
