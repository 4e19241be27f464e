using System.Net;
using System.Text.Json;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests.Logging;

/// <summary><c>Gateway:Logging:Json</c> switches the console of the real process to one JSON object per line, scopes included.</summary>
public sealed class JsonConsoleTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-json-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Console_JsonTrue_WritesJsonLinesWithTheFailureFieldsRequestIdAndTraceId()
    {
        await using var gateway = await StartAndFailOneSourceAsync(json: true, "json-req-1");

        var failure = await Poll.UntilAsync(
            () => Task.FromResult(Lines(gateway.StandardOutput).FirstOrDefault(l => l.GetProperty("Category").GetString() == "Gateway.Aggregation.FanOutExecutor")),
            line => line.ValueKind == JsonValueKind.Object,
            "the source failure's JSON line");

        // Every line the process wrote is one JSON object.
        Assert.All(gateway.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), l => JsonDocument.Parse(l).Dispose());
        Assert.Equal("Warning", failure.GetProperty("LogLevel").GetString());
        Assert.Equal(1, failure.GetProperty("EventId").GetInt32());
        var state = failure.GetProperty("State");
        Assert.Equal("agg", state.GetProperty("Aggregate").GetString());
        Assert.Equal("profile", state.GetProperty("Source").GetString());
        Assert.Equal("unavailable", state.GetProperty("Kind").GetString());
        var scopes = failure.GetProperty("Scopes").EnumerateArray().ToList();
        Assert.Contains(scopes, s => s.TryGetProperty("XRequestId", out var id) && id.GetString() == "json-req-1");
        Assert.Contains(scopes, s => s.TryGetProperty("TraceId", out var trace) && trace.GetString() == state.GetProperty("TraceId").GetString());
    }

    [Fact]
    public async Task Console_Plain_TheFailureLineCarriesTheRequestIdScope()
    {
        await using var gateway = await StartAndFailOneSourceAsync(json: false, "plain-req-1");

        // The simple formatter writes a line's scopes on the line after it: "warn: ...FanOutExecutor[1]", the message,
        // then "=> ... => XRequestId:plain-req-1".
        var entry = await Poll.UntilAsync(
            () => Task.FromResult(Entry(gateway.StandardOutput, "Gateway.Aggregation.FanOutExecutor[1]")),
            e => e is not null,
            "the source failure's console entry");
        Assert.StartsWith("warn:", entry, StringComparison.Ordinal);
        Assert.Contains("XRequestId:plain-req-1", entry, StringComparison.Ordinal);
    }

    /// <summary>
    /// The real gateway as a process (console as configured) whose one aggregate's required source cannot connect,
    /// after one request with <paramref name="requestId"/> answered 502: its source failure is on the console.
    /// </summary>
    private async Task<GatewayProcess> StartAndFailOneSourceAsync(bool json, string requestId)
    {
        var config = new GatewayConfig()
            .Cluster("users", new Uri($"http://127.0.0.1:{Ports.Closed()}/"))
            .Aggregate("agg", "/agg/{id}", a => a.Source("profile", "users", "/users/{id}", required: true));
        config.Root["Logging"]!["LogLevel"]!["Microsoft.Hosting.Lifetime"] = "Information";
        config.Gateway["Logging"] = new System.Text.Json.Nodes.JsonObject { ["Json"] = json };
        var path = Path.Combine(_folder, requestId + ".json");
        await File.WriteAllTextAsync(path, config.ToJson());

        var gateway = GatewayProcess.Start(["--config", path, "--urls", "http://127.0.0.1:0"]);
        try
        {
            var address = await gateway.WaitUntilListeningAsync(TimeSpan.FromSeconds(30));
            using var client = new HttpClient { BaseAddress = address, Timeout = Signal.Patience };
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/agg/1", UriKind.Relative));
            request.Headers.Add("X-Request-Id", requestId);
            using var answer = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    /// <summary>The console entry whose first line names <paramref name="category"/>, with the lines that follow it.</summary>
    private static string? Entry(string output, string category)
    {
        var lines = output.Split('\n');
        var start = Array.FindIndex(lines, l => l.Contains(category, StringComparison.Ordinal));
        if (start < 0)
        {
            return null;
        }

        var end = Array.FindIndex(lines, start + 1, l => l.Length > 0 && !char.IsWhiteSpace(l[0]));
        // The console logger writes an entry in one piece, so the last entry is complete too.
        return string.Join('\n', lines[start..(end < 0 ? lines.Length : end)]);
    }

    private static List<JsonElement> Lines(string output)
    {
        var lines = new List<JsonElement>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                lines.Add(document.RootElement.Clone());
            }
            catch (JsonException)
            {
                // Asserted separately: every line must parse.
            }
        }

        return lines;
    }
}
