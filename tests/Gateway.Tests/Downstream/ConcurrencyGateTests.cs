using Gateway.Downstream;
using Gateway.Tests.Aggregation;

namespace Gateway.Tests.Downstream;

public sealed class ConcurrencyGateTests
{
    [Fact]
    public async Task TryEnter_SlotsAndQueueFull_RejectsAtOnce()
    {
        var gate = new ConcurrencyGate(maxConcurrency: 1, maxQueue: 1);
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
        var gate = new ConcurrencyGate(maxConcurrency: 2, maxQueue: 0);
        Assert.True(await gate.TryEnterAsync(CancellationToken.None));
        Assert.True(await gate.TryEnterAsync(CancellationToken.None));
        Assert.False(await gate.TryEnterAsync(CancellationToken.None));
        gate.Exit();
        Assert.True(await gate.TryEnterAsync(CancellationToken.None));
    }

    [Fact]
    public async Task TryEnter_QueuedCallerCancelled_FreesItsQueuePlace()
    {
        var gate = new ConcurrencyGate(maxConcurrency: 1, maxQueue: 1);
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

    [Fact]
    public async Task TryEnter_ManyThreadsAtOnce_NeverOverAdmitsAndEndsEmpty()
    {
        var gate = new ConcurrencyGate(maxConcurrency: 3, maxQueue: 2);
        var inside = 0;
        var maxInside = 0;
        var workers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 2_000; i++)
            {
                using var cts = new CancellationTokenSource();
                if (i % 7 == w % 7)
                {
                    cts.Cancel();
                }

                bool entered;
                try
                {
                    entered = await gate.TryEnterAsync(cts.Token);
                }
                catch (OperationCanceledException)
                {
                    continue;
                }

                if (!entered)
                {
                    continue;
                }

                var now = Interlocked.Increment(ref inside);
                InterlockedMax(ref maxInside, now);
                await Task.Yield();
                Interlocked.Decrement(ref inside);
                gate.Exit();
            }
        })).ToArray();

        await Task.WhenAll(workers).Within(60);

        Assert.InRange(maxInside, 1, 3);
        Assert.Equal(0, gate.Occupancy);
        // All three slots are free again.
        Assert.True(await gate.TryEnterAsync(CancellationToken.None));
        Assert.True(await gate.TryEnterAsync(CancellationToken.None));
        Assert.True(await gate.TryEnterAsync(CancellationToken.None));
        Assert.False(gate.TryEnterAsync(CancellationToken.None).IsCompleted);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
