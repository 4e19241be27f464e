using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Gateway.Aggregation;
using Gateway.Downstream;
using Gateway.Model;
using Microsoft.Extensions.Configuration;

namespace Gateway.Benchmarks;

/// <summary>What became of the three sources of the aggregated request.</summary>
public enum Scenario
{
    /// <summary>All three sources answered 200 with the same JSON object.</summary>
    AllOk,

    /// <summary>The first two answered; the third (optional) one timed out.</summary>
    OneTimeout,
}

/// <summary>
/// One aggregated request of three sources, after their bodies arrived: what the gateway does
/// (validate each body, build the results, verdict, envelope) against what a hand-written
/// Task.WhenAll aggregator does (JsonNode.Parse each body, build a JsonObject, serialize it).
/// Both write into the same kind of reusable buffer; neither includes the HTTP calls.
/// </summary>
[MemoryDiagnoser]
public class MergeBenchmarks
{
    private const int SourceCount = 3;
    private const int FailedIndex = SourceCount - 1;

    // 617 bytes of minified JSON, as a service answers: scalars, nested objects, a string array,
    // an array of 5 small items, one non-ASCII character.
    private const string DownstreamJson = """
        {"id":"8f14e45f-ceea-467f-a0e6-1c2b3d4e5f60","name":"Ada Lovelace","email":"ada.lovelace@example.com","active":true,"createdAt":"2024-03-18T09:41:27Z","score":98.25,"address":{"street":"12 Analytical Engine Way","city":"Zürich","postalCode":"8001","country":"CH","geo":{"lat":47.3769,"lon":8.5417}},"tags":["premium","beta","early-adopter"],"items":[{"sku":"BK-1001","qty":2,"price":19.99},{"sku":"BK-1002","qty":1,"price":42.5},{"sku":"PN-2001","qty":5,"price":3.75},{"sku":"NB-3001","qty":3,"price":7.2},{"sku":"CB-4001","qty":1,"price":129}],"preferences":{"language":"en-GB","currency":"CHF","newsletter":false}}
        """;

    private const string Configuration = """
        { "ReverseProxy": { "Clusters": { "users": { "Destinations": { "a": { "Address": "http://users.test/" } } } } },
          "Gateway": { "Aggregates": { "profile": { "Route": "/profile/{id}", "Sources": {
            "user": { "Cluster": "users", "Path": "/users/{id}", "Required": true },
            "account": { "Cluster": "users", "Path": "/accounts/{id}", "Required": true },
            "activity": { "Cluster": "users", "Path": "/activity/{id}", "Required": false, "Timeout": "00:00:00.250" } } } } } }
        """;

    // What ResponseBody.ReadAsync leaves per source: a pooled buffer (rented once here, as the pool
    // hands the same arrays back request after request) holding the body.
    private readonly byte[][] _buffers = new byte[SourceCount][];
    private readonly string[] _names = new string[SourceCount];
    private readonly ArrayBufferWriter<byte> _output = new(16 * 1024);
    private AggregateDefinition _definition = null!;
    private int _length;

    [ParamsAllValues]
    public Scenario Scenario { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(Configuration))).Build();
        var catalog = new AggregationCatalog(configuration, TimeProvider.System);
        catalog.ThrowIfInvalid();
        _definition = catalog.Configured.Single();

        var bytes = Encoding.UTF8.GetBytes(DownstreamJson);
        _length = bytes.Length;
        for (var i = 0; i < SourceCount; i++)
        {
            _buffers[i] = ArrayPool<byte>.Shared.Rent(_length + 1);
            bytes.CopyTo(_buffers[i], 0);
            _names[i] = _definition.Sources[i].Name;
        }

        CheckBothAgree();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var buffer in _buffers)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Per request the gateway allocates the results array, one SourceResult per source, one PooledBody
    /// per body, the failure message of a failed source, and the Utf8JsonWriter inside EnvelopeWriter.
    /// </summary>
    [Benchmark]
    public int Gateway()
    {
        var results = new SourceResult[SourceCount];
        for (var i = 0; i < SourceCount; i++)
        {
            if (Scenario == Scenario.OneTimeout && i == FailedIndex)
            {
                // As FanOutExecutor words a source's own timeout.
                results[i] = SourceResult.Failed(SourceOutcome.Timeout, 250, $"no answer within {Milliseconds(_definition.Sources[i].Timeout)} ms");
                continue;
            }

            var body = new PooledBody(_buffers[i], 0, _length);
            if (!ResponseBody.IsJson(body.Span))
            {
                throw new InvalidOperationException("the sample body is not JSON");
            }

            results[i] = SourceResult.Ok(200, 3 + i, body);
        }

        var verdict = AggregateVerdict.From(_definition, results);
        _output.ResetWrittenCount();
        EnvelopeWriter.Write(_output, _definition, results, verdict, 12);
        return _output.WrittenCount + verdict.StatusCode;
    }

    /// <summary>The merge of a hand-written aggregator: parse each body into a JsonNode, build the tree, serialize it.</summary>
    [Benchmark(Baseline = true)]
    public int Baseline()
    {
        var data = new JsonObject();
        var errors = new JsonArray();
        for (var i = 0; i < SourceCount; i++)
        {
            if (Scenario == Scenario.OneTimeout && i == FailedIndex)
            {
                errors.Add(new JsonObject { ["source"] = _names[i], ["message"] = $"timed out after {_definition.Sources[i].Timeout.TotalMilliseconds:0} ms" });
                continue;
            }

            data[_names[i]] = JsonNode.Parse(_buffers[i].AsSpan(0, _length));
        }

        var root = new JsonObject { ["data"] = data, ["errors"] = errors };
        _output.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(_output);
        root.WriteTo(writer);
        writer.Flush();
        return _output.WrittenCount;
    }

    private static string Milliseconds(TimeSpan value) => ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    // Both benchmarks must produce the same data and the same number of errors, or the comparison means nothing.
    private void CheckBothAgree()
    {
        Gateway();
        var gateway = JsonNode.Parse(_output.WrittenSpan)!;
        Baseline();
        var baseline = JsonNode.Parse(_output.WrittenSpan)!;

        var expectedData = Scenario == Scenario.AllOk ? SourceCount : SourceCount - 1;
        if (!JsonNode.DeepEquals(gateway["data"], baseline["data"])
            || gateway["data"]!.AsObject().Count != expectedData
            || gateway["errors"]!.AsArray().Count != SourceCount - expectedData
            || baseline["errors"]!.AsArray().Count != SourceCount - expectedData)
        {
            throw new InvalidOperationException($"the gateway and the baseline disagree for {Scenario}");
        }
    }
}
