using System.Threading.Channels;

namespace Gateway.Caching;

/// <summary>
/// The bounded channel between the scheduler and the workers. A dataset goes in only when no refresh of it
/// is queued or running, and writing never waits: a full channel turns the job away.
/// </summary>
internal sealed class RefreshQueue
{
    private readonly Channel<CachedDataset> _channel;

    /// <param name="capacity">Jobs waiting at most; one per dataset is all there can ever be, so that is the default.</param>
    public RefreshQueue(int capacity) =>
        _channel = Channel.CreateBounded<CachedDataset>(new BoundedChannelOptions(Math.Max(capacity, 1))
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails at once when full; nothing here ever waits to write.
            SingleReader = false,
            SingleWriter = false,
        });

    public ChannelReader<CachedDataset> Reader => _channel.Reader;

    /// <summary>Queues a refresh of <paramref name="dataset"/> unless one is already queued or running, or the channel is full.</summary>
    public Enqueued TryEnqueue(CachedDataset dataset)
    {
        if (!dataset.TryMarkPending())
        {
            return Enqueued.AlreadyPending;
        }

        if (_channel.Writer.TryWrite(dataset))
        {
            return Enqueued.Queued;
        }

        dataset.ClearPending();
        return Enqueued.QueueFull;
    }

    /// <summary>No more jobs: the workers' loops end once the channel is drained.</summary>
    public void Complete() => _channel.Writer.TryComplete();
}

/// <summary>What became of a refresh job offered to the queue.</summary>
internal enum Enqueued
{
    Queued,

    /// <summary>A refresh of the dataset is already queued or running: this one was a duplicate, dropped.</summary>
    AlreadyPending,

    /// <summary>The channel was full: dropped, the scheduler tries again later.</summary>
    QueueFull,
}
