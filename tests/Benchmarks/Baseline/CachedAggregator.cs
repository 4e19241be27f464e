using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Caching.Memory;

namespace Gateway.Benchmarks.Baseline;

/// <summary>
/// The aggregate of <see cref="Scenarios.Cached"/> with each source's body kept in <see cref="IMemoryCache"/>:
/// cache-aside, the body fetched on the first request that misses and kept for the refresh interval, then
/// parsed and merged per request as <see cref="Aggregator"/> merges fresh answers.
/// </summary>
internal sealed class CachedAggregator(IHttpClientFactory httpClientFactory, IMemoryCache cache)
{
    public async Task<JsonObject> AggregateAsync(SourceCall[] calls, TimeSpan refreshInterval, CancellationToken cancellationToken)
    {
        var bodies = new Task<byte[]?>[calls.Length];
        for (var i = 0; i < calls.Length; i++)
        {
            bodies[i] = BodyAsync(calls[i], refreshInterval, cancellationToken);
        }

        var data = new JsonObject();
        var errors = new JsonArray();
        for (var i = 0; i < calls.Length; i++)
        {
            var name = calls[i].Name;
            try
            {
                // The cache keeps the bytes, not a JsonNode: a node belongs to one parent, so a cached node
                // could not go into every response without a deep clone.
                var body = await bodies[i].ConfigureAwait(false);
                data[name] = body is null ? null : JsonNode.Parse(body);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                errors.Add(new JsonObject { ["source"] = name, ["message"] = $"timed out after {calls[i].Timeout.TotalMilliseconds:0} ms" });
            }
            catch (HttpRequestException ex)
            {
                errors.Add(new JsonObject { ["source"] = name, ["message"] = ex.Message });
            }
            catch (JsonException ex)
            {
                errors.Add(new JsonObject { ["source"] = name, ["message"] = "invalid JSON: " + ex.Message });
            }
        }

        return new JsonObject { ["data"] = data, ["errors"] = errors };
    }

    private Task<byte[]?> BodyAsync(SourceCall call, TimeSpan refreshInterval, CancellationToken cancellationToken) =>
        cache.TryGetValue(call, out byte[]? body) ? Task.FromResult(body) : FetchAsync(call, refreshInterval, cancellationToken);

    // Concurrent misses each call the downstream (no coalescing) and the last one's body stays: what
    // IMemoryCache gives without more code. A failed call caches nothing, so the next request tries again.
    private async Task<byte[]?> FetchAsync(SourceCall call, TimeSpan refreshInterval, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(call.Timeout);
        var client = httpClientFactory.CreateClient(call.Client);
        var body = await client.GetByteArrayAsync(call.Path, timeout.Token).ConfigureAwait(false);
        return cache.Set(call, body, refreshInterval);
    }
}
