using System.Globalization;

namespace Gateway.Downstream;

/// <summary>
/// What the client (or the dataset's report) is told about one call to <paramref name="downstream"/> under
/// <paramref name="timeout"/>, built once per source or dataset so that a failure allocates no text.
/// </summary>
internal sealed class CallMessages(DownstreamService downstream, TimeSpan timeout)
{
    public string Timeout { get; } = $"no answer within {Milliseconds(timeout)} ms";

    public string TimeoutQueued { get; } = $"no free slot at downstream '{downstream.Id}' within {Milliseconds(timeout)} ms: timed out while still queued";

    public string AttemptTimeout { get; } = $"downstream '{downstream.Id}' did not answer within its attempt timeout";

    public string Rejected { get; } = $"downstream '{downstream.Id}' is at its concurrency limit";

    public string CircuitOpen { get; } = $"downstream '{downstream.Id}' is failing: its circuit breaker is open, the call was not sent";

    public string Unavailable { get; } = $"downstream '{downstream.Id}' could not be reached or dropped the connection";

    public string NoDestination { get; } = $"downstream '{downstream.Id}' has no available destination";

    public string TooLarge { get; } = $"response of downstream '{downstream.Id}' is larger than {downstream.MaxResponseBytes} bytes";

    public string NotJson { get; } = $"response of downstream '{downstream.Id}' is not valid JSON";

    public const string AddressTooLong = "not called: its address could not be built from the values (too long)";

    public const string ShuttingDown = "cancelled: the gateway is shutting down";

    public string HttpStatus(int status) => $"downstream '{downstream.Id}' answered HTTP {status}";

    public static string Milliseconds(TimeSpan value) => ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
}
