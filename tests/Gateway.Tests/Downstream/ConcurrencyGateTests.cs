using Gateway.Downstream;

namespace Gateway.Tests.Downstream;

public sealed class ConcurrencyGateTests
{
    [Fact]
    public async Task TryEnter_SlotsAndQueueFull_RejectsAtOnce()
    {
        using var gate = new ConcurrencyGate(maxConcurrency: 1, maxQueue: 1);
        Assert.True(await gate.TryEnterAsync(CancellationToken.None));
        var queued = gate.TryEnterAsync(CancellationToken.None);
        Assert.False(queued.IsCompleted);

        var rejected = gate.TryEnterAsync(CancellationToken.None);
        Assert.True(rejected.IsCompleted);
        Assert.False(await rejected);

        gate.Exit();
        Assert.True(await queued);
        gate.Exit();
        Assert.Equal(0, gate.Occupancy);
    }

    [Fact]
    public async Task TryEnter_NoQueue_RejectsWhileFullAndAdmitsAfterExit()
    {
        using var gate = new ConcurrencyGate(maxConcurrency: 2, maxQueue: 0);
        Assert.True(await gate.TryEnterAsync(CancellationToken.None));
        Assert.True(await gate.TryEnterAsync(CancellationToken.None));
        Assert.False(await gate.TryEnterAsync(CancellationToken.None));
        gate.Exit();
        Assert.True(await gate.TryEnterAsync(CancellationToken.None));
    }

    [Fact]
    public async Task TryEnter_QueuedCallerCancelled_FreesItsQueuePlace()
    {
        using var gate = new ConcurrencyGate(maxConcurrency: 1, maxQueue: 1);
        Assert.True(await gate.TryEnterAsync(CancellationToken.None));
        using var cts = new CancellationTokenSource();
        var queued = gate.TryEnterAsync(cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await queued);
        Assert.Equal(1, gate.Occupancy);

        var next = gate.TryEnterAsync(CancellationToken.None);
        Assert.False(next.IsCompleted);
        gate.Exit();
        Assert.True(await next);
    }
}
