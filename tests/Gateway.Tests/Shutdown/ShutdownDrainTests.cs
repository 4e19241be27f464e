using Gateway.Configuration;
using Gateway.Shutdown;
using Gateway.Tests.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Shutdown;

public sealed class ShutdownDrainTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly StoppableLifetime _lifetime = new();
    private readonly FakeLogger<ShutdownDrain> _log = new();

    [Fact]
    public void Expired_HostStops_CancelledOnlyOnceTheDrainTimeoutHasPassed()
    {
        using var drain = new ShutdownDrain(_lifetime, _time, TimeSpan.FromSeconds(25), _log);
        drain.Enter();

        _lifetime.StopApplication();

        Assert.True(drain.Draining);
        Assert.False(drain.Expired.IsCancellationRequested);
        _time.Advance(TimeSpan.FromSeconds(24.9));
        Assert.False(drain.Expired.IsCancellationRequested);
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(drain.Expired.IsCancellationRequested);
        Assert.Contains(_log.Collector.GetSnapshot(), e => e is { Level: LogLevel.Warning, Id.Name: "DrainExpired" } && e.Message.Contains("1 requests in flight", StringComparison.Ordinal));
    }

    [Fact]
    public void Expired_HostNotStopping_NeverCancelled()
    {
        using var drain = new ShutdownDrain(_lifetime, _time, TimeSpan.FromSeconds(1), _log);

        _time.Advance(TimeSpan.FromHours(1));

        Assert.False(drain.Draining);
        Assert.False(drain.Expired.IsCancellationRequested);
    }

    [Fact]
    public void Expired_DrainTimeoutZero_CancelledAsTheHostStops()
    {
        using var drain = new ShutdownDrain(_lifetime, _time, TimeSpan.Zero, _log);

        _lifetime.StopApplication();

        Assert.True(drain.Expired.IsCancellationRequested);
    }

    [Fact]
    public void Exit_LastRequestEndsDuringTheDrain_LogsDrainedAndNothingExpires()
    {
        using var drain = new ShutdownDrain(_lifetime, _time, TimeSpan.FromSeconds(25), _log);
        drain.Enter();
        drain.Enter();
        _lifetime.StopApplication();

        _time.Advance(TimeSpan.FromSeconds(3));
        drain.Exit();
        Assert.DoesNotContain(_log.Collector.GetSnapshot(), e => e.Id.Name == "Drained");
        drain.Exit();

        Assert.Contains(_log.Collector.GetSnapshot(), e => e.Id.Name == "Drained" && e.Message.Contains("3000 ms", StringComparison.Ordinal));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(_log.Collector.GetSnapshot(), e => e.Id.Name == "DrainExpired");
        Assert.Equal(0, drain.InFlight);
    }

    [Theory]
    [InlineData("-1s")]
    [InlineData("2h")]
    [InlineData("banana")]
    public void Load_DrainTimeoutOutOfRange_NamesTheKey(string value)
    {
        var catalog = AggregationCatalogTests.Load($$"""{ "Gateway": { "Shutdown": { "DrainTimeout": "{{value}}" } } }""");

        var ex = Assert.Throws<GatewayConfigurationException>(catalog.ThrowIfInvalid);

        Assert.Contains(ex.Errors, e => e.StartsWith("Gateway:Shutdown:DrainTimeout", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_DrainTimeoutUnset_25sAndTheHostWaits5sLonger()
    {
        var options = AggregationCatalogTests.Load("""{ "Gateway": {} }""").Options.Shutdown;

        Assert.Equal(TimeSpan.FromSeconds(25), options.DrainTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), options.HostShutdownTimeout(ShutdownExtensions.HostMargin));
    }
}

/// <summary>A host lifetime whose <see cref="StopApplication"/> fires <see cref="ApplicationStopping"/>, as the host's does.</summary>
internal sealed class StoppableLifetime : IHostApplicationLifetime, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();

    public CancellationToken ApplicationStarted => new(canceled: true);

    public CancellationToken ApplicationStopping => _stopping.Token;

    public CancellationToken ApplicationStopped => CancellationToken.None;

    public void StopApplication() => _stopping.Cancel();

    public void Dispose() => _stopping.Dispose();
}
