using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Benchmarks.Baseline;

/// <summary>Calls the sources of an aggregate in parallel and merges their answers into one JSON object.</summary>
internal sealed class Aggregator(IHttpClientFactory httpClientFactory)
{
    // A big cap per downstream: it protects the downstream in real life but is never hit in the benchmark.
    private const int MaxConcurrencyPerDownstream = 1024;

    private readonly Dictionary<string, SemaphoreSlim> _limits = Scenarios.DownstreamNames.ToDictionary(
        name => name,
        _ => new SemaphoreSlim(MaxConcurrencyPerDownstream, MaxConcurrencyPerDownstream));

    public async Task<JsonObject> AggregateAsync(SourceCall[] calls, CancellationToken cancellationToken)
    {
        var tasks = new Task<SourceResult>[calls.Length];
        for (var i = 0; i < calls.Length; i++)
        {
            tasks[i] = CallAsync(calls[i], cancellationToken);
        }

        var results = await Task.WhenAll(tasks).ConfigureAwait(false);

        var data = new JsonObject();
        var errors = new JsonArray();
        foreach (var result in results)
        {
            if (result.Error is null)
            {
                data[result.Name] = result.Node;
            }
            else
            {
                errors.Add(new JsonObject { ["source"] = result.Name, ["message"] = result.Error });
            }
        }

        return new JsonObject { ["data"] = data, ["errors"] = errors };
    }

    private async Task<SourceResult> CallAsync(SourceCall call, CancellationToken requestAborted)
    {
        var limit = _limits[call.Client];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        timeout.CancelAfter(call.Timeout);
        try
        {
            await limit.WaitAsync(timeout.Token).ConfigureAwait(false);
            try
            {
                var client = httpClientFactory.CreateClient(call.Client);
                var node = await client.GetFromJsonAsync<JsonNode>(call.Path, timeout.Token).ConfigureAwait(false);
                return new SourceResult(call.Name, node, null);
            }
            finally
            {
                limit.Release();
            }
        }
        catch (OperationCanceledException) when (!requestAborted.IsCancellationRequested)
        {
            return new SourceResult(call.Name, null, $"timed out after {call.Timeout.TotalMilliseconds:0} ms");
        }
        catch (HttpRequestException ex)
        {
            return new SourceResult(call.Name, null, ex.Message);
        }
        catch (JsonException ex)
        {
            return new SourceResult(call.Name, null, "invalid JSON: " + ex.Message);
        }
    }

    private sealed record SourceResult(string Name, JsonNode? Node, string? Error);
}
