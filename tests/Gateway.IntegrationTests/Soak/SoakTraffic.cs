using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Gateway.IntegrationTests.Soak;

/// <summary>One kind of request of the mix: how to build it (from the request's number) and which statuses it should get.</summary>
internal sealed record TrafficKind(string Name, string What, Func<long, HttpRequestMessage> Build, Func<HttpStatusCode, bool> Expected);

/// <summary>What one kind of request got: answers by status, and failures to get an answer at all.</summary>
internal sealed class KindCounters
{
    public ConcurrentDictionary<int, long> Statuses { get; } = new();

    public long Expected;

    public long Unexpected;

    /// <summary>No answer: the connection failed or the client's 10 s timeout passed.</summary>
    public long NoAnswer;

    public long Sent => Expected + Unexpected + NoAnswer;
}

/// <summary>
/// Drives the mix: <see cref="SoakSettings.Concurrency"/> loops take request numbers from one counter and send the kind
/// <c>number % kinds</c>, paced to <see cref="SoakSettings.Rate"/> requests/s; bounded both by the run's time and by a
/// count (the rate × seconds, or 20,000/s × seconds unpaced).
/// </summary>
internal sealed class SoakTraffic(IReadOnlyList<TrafficKind> kinds, SoakSettings settings)
{
    private readonly KindCounters[] _counters = [.. kinds.Select(_ => new KindCounters())];
    private long _next;

    public IReadOnlyList<TrafficKind> Kinds => kinds;

    public IReadOnlyList<KindCounters> Counters => _counters;

    /// <summary>Requests answered or failed so far.</summary>
    public long Completed => _counters.Sum(c => Interlocked.Read(ref c.Expected) + Interlocked.Read(ref c.Unexpected) + Interlocked.Read(ref c.NoAnswer));

    /// <summary>Sends one request of every kind (before load: the gateway's first answers, then its idle RSS).</summary>
    public async Task SendEachOnceAsync(HttpClient client, CancellationToken cancellationToken)
    {
        for (var i = 0; i < kinds.Count; i++)
        {
            await SendAsync(client, i, cancellationToken);
        }
    }

    public async Task RunAsync(HttpClient client, TimeSpan duration, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var limit = (long)(settings.Rate > 0 ? settings.Rate : 20_000) * settings.Seconds;
        var first = Interlocked.Read(ref _next);
        var loops = Enumerable.Range(0, settings.Concurrency).Select(async _ =>
        {
            while (clock.Elapsed < duration && !cancellationToken.IsCancellationRequested)
            {
                var number = Interlocked.Increment(ref _next) - 1;
                if (number - first >= limit)
                {
                    return;
                }

                if (settings.Rate > 0)
                {
                    var due = TimeSpan.FromSeconds((number - first) / (double)settings.Rate);
                    if (due > duration)
                    {
                        return;
                    }

                    // The clock read once: read twice, the second reading may pass the first and the wait go negative.
                    var wait = due - clock.Elapsed;
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, cancellationToken);
                    }
                }

                await SendAsync(client, number, cancellationToken);
            }
        });
        await Task.WhenAll(loops);
    }

    private async Task SendAsync(HttpClient client, long number, CancellationToken cancellationToken)
    {
        var index = (int)(number % kinds.Count);
        var kind = kinds[index];
        var counters = _counters[index];
        try
        {
            using var request = kind.Build(number);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            await response.Content.CopyToAsync(Stream.Null, cancellationToken);
            counters.Statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
            if (kind.Expected(response.StatusCode))
            {
                Interlocked.Increment(ref counters.Expected);
            }
            else
            {
                Interlocked.Increment(ref counters.Unexpected);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref counters.NoAnswer);
        }
    }

    /// <summary>e.g. <c>200: 1234, 504: 5</c>.</summary>
    public static string Format(KindCounters counters) =>
        string.Join(", ", counters.Statuses.OrderBy(s => s.Key).Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key}: {s.Value}")))
        + (counters.NoAnswer > 0 ? string.Create(CultureInfo.InvariantCulture, $", no answer: {counters.NoAnswer}") : "");
}
