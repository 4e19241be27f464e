using System.Globalization;

namespace Gateway.IntegrationTests.Soak;

/// <summary>
/// What one soak run does and what it must show, from <c>GATEWAY_SOAK_*</c> environment variables. The defaults are
/// the CI run's: 60 s, generous bounds, moderate load. tests/Benchmarks/soak.sh sets the (600 s, heap slope
/// under 1 %/min after minute 2, peak RSS under MaxBytes + 1.3 × idle RSS).
/// </summary>
public sealed record SoakSettings
{
    /// <summary>Seconds of mixed traffic (<c>GATEWAY_SOAK_SECONDS</c>).</summary>
    public required int Seconds { get; init; }

    /// <summary>Seconds between two samples of RSS and heap (<c>GATEWAY_SOAK_SAMPLE_SECONDS</c>; default 10, 2 for runs under 5 minutes).</summary>
    public required int SampleSeconds { get; init; }

    /// <summary>The first seconds, left out of the plateau (<c>GATEWAY_SOAK_SETTLE_SECONDS</c>; default a third of the run, at most 120).</summary>
    public required int SettleSeconds { get; init; }

    /// <summary>Bound of the heap's least-squares slope after the settling time, in % of its mean a minute (<c>GATEWAY_SOAK_MAX_HEAP_SLOPE</c>).</summary>
    public required double MaxHeapSlopePercent { get; init; }

    /// <summary>k of the bound peak RSS &lt; MaxBytes + k × idle RSS (<c>GATEWAY_SOAK_RSS_FACTOR</c>).</summary>
    public required double RssFactor { get; init; }

    /// <summary><c>Gateway:Cache:MaxBytes</c> of the soaked gateway, in MiB (<c>GATEWAY_SOAK_MAX_MIB</c>).</summary>
    public required int CacheMaxMib { get; init; }

    /// <summary>Size of each body the response cache stores (<c>GATEWAY_SOAK_BODY_BYTES</c>).</summary>
    public required int BodyBytes { get; init; }

    /// <summary>Requests in flight at once (<c>GATEWAY_SOAK_CONCURRENCY</c>).</summary>
    public required int Concurrency { get; init; }

    /// <summary>Requests per second at most, 0 for as fast as <see cref="Concurrency"/> allows (<c>GATEWAY_SOAK_RATE</c>).</summary>
    public required int Rate { get; init; }

    /// <summary>Where the series and the summary are written (<c>GATEWAY_SOAK_ARTIFACTS</c>; default a new folder under the temp dir).</summary>
    public required string Artifacts { get; init; }

    public long CacheMaxBytes => CacheMaxMib * 1024L * 1024;

    public static SoakSettings FromEnvironment()
    {
        var seconds = Read("GATEWAY_SOAK_SECONDS", 60, min: 10, max: 24 * 3600);
        var sample = Read("GATEWAY_SOAK_SAMPLE_SECONDS", seconds >= 300 ? 10 : 2, min: 1, max: seconds / 5);
        return new SoakSettings
        {
            Seconds = seconds,
            SampleSeconds = sample,
            SettleSeconds = Read("GATEWAY_SOAK_SETTLE_SECONDS", Math.Min(120, seconds / 3), min: 0, max: seconds - 3 * sample),
            MaxHeapSlopePercent = Read("GATEWAY_SOAK_MAX_HEAP_SLOPE", 10.0),
            RssFactor = Read("GATEWAY_SOAK_RSS_FACTOR", 2.0),
            CacheMaxMib = Read("GATEWAY_SOAK_MAX_MIB", 8, min: 1, max: 4096),
            BodyBytes = Read("GATEWAY_SOAK_BODY_BYTES", 8192, min: 64, max: 512 * 1024),
            Concurrency = Read("GATEWAY_SOAK_CONCURRENCY", 8, min: 1, max: 1024),
            Rate = Read("GATEWAY_SOAK_RATE", 400, min: 0, max: 1_000_000),
            Artifacts = Environment.GetEnvironmentVariable("GATEWAY_SOAK_ARTIFACTS") is { Length: > 0 } dir
                ? dir
                : Path.Combine(Path.GetTempPath(), $"gateway-soak-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}"),
        };
    }

    private static int Read(string name, int fallback, int min, int max)
    {
        var text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        Assert.True(
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max,
            $"{name} must be a whole number from {min} to {max} (got '{text}')");
        return value;
    }

    private static double Read(string name, double fallback)
    {
        var text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        Assert.True(
            double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value > 0,
            $"{name} must be a positive number (got '{text}')");
        return value;
    }
}
