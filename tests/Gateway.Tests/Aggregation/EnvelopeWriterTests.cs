using System.Buffers;
using System.Text;
using System.Text.Json;
using Gateway.Aggregation;
using Gateway.Downstream;
using Gateway.Model;
using Gateway.Tests.Configuration;

namespace Gateway.Tests.Aggregation;

public sealed class EnvelopeWriterTests
{
    private static AggregateDefinition Definition(bool requiredB = false)
    {
        var catalog = AggregationCatalogTests.Load($$"""
            { "ReverseProxy": { "Clusters": { "users": { "Destinations": { "a": { "Address": "http://users.test/" } } } } },
              "Gateway": { "Aggregates": { "x": { "Route": "/x", "Sources": {
                "a": { "Cluster": "users", "Path": "/a", "Required": true },
                "b": { "Cluster": "users", "Path": "/b", "Required": {{(requiredB ? "true" : "false")}} } } } } } }
            """);
        catalog.ThrowIfInvalid();
        return catalog.Configured.Single();
    }

    private static PooledBody Body(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var buffer = ArrayPool<byte>.Shared.Rent(bytes.Length);
        bytes.CopyTo(buffer, 0);
        return new PooledBody(buffer, 0, bytes.Length);
    }

    private static string Write(AggregateDefinition definition, SourceResult[] results)
    {
        var output = new ArrayBufferWriter<byte>();
        EnvelopeWriter.Write(output, definition, results, AggregateVerdict.From(definition, results), 12);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Fact]
    public void Write_SuccessfulSource_CopiesItsBytesVerbatim()
    {
        const string downstream = "{ \"price\" : 1.50, \"name\":\"caf\\u00e9 <b>\" ,\"n\":[ 1e3 ] }";
        var definition = Definition();
        var json = Write(definition, [SourceResult.Ok(200, 5, Body(downstream)), SourceResult.Ok(200, 7, Body("[]"))]);

        Assert.StartsWith("{\"data\":{\"a\":" + downstream + ",\"b\":[]}", json, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json);
        Assert.Equal(0, document.RootElement.GetProperty("errors").GetArrayLength());
        Assert.True(document.RootElement.GetProperty("meta").GetProperty("complete").GetBoolean());
        Assert.Equal(12, document.RootElement.GetProperty("meta").GetProperty("elapsedMs").GetInt64());
    }

    [Fact]
    public void Write_FailedSource_HasNoDataKeyAndAnErrorEntry()
    {
        var definition = Definition();
        var json = Write(definition, [
            SourceResult.Ok(200, 5, Body("{}")),
            SourceResult.Failed(SourceOutcome.HttpStatus, 9, "downstream 'users' answered HTTP 503", 503)]);

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.False(root.GetProperty("data").TryGetProperty("b", out _));
        var error = root.GetProperty("errors").EnumerateArray().Single();
        Assert.Equal("b", error.GetProperty("source").GetString());
        Assert.Equal("http_status", error.GetProperty("kind").GetString());
        Assert.Equal(503, error.GetProperty("status").GetInt32());
        Assert.Equal("downstream 'users' answered HTTP 503", error.GetProperty("message").GetString());
        Assert.Equal(9, error.GetProperty("elapsedMs").GetInt64());
        var meta = root.GetProperty("meta");
        Assert.False(meta.GetProperty("complete").GetBoolean());
        Assert.Equal("http_status", meta.GetProperty("sources").GetProperty("b").GetProperty("outcome").GetString());
        Assert.Equal("ok", meta.GetProperty("sources").GetProperty("a").GetProperty("outcome").GetString());
        Assert.Equal(200, meta.GetProperty("sources").GetProperty("a").GetProperty("status").GetInt32());
    }

    [Theory]
    [InlineData(nameof(SourceOutcome.Timeout), false, 200)]
    [InlineData(nameof(SourceOutcome.Timeout), true, 504)]
    [InlineData(nameof(SourceOutcome.Unavailable), true, 502)]
    [InlineData(nameof(SourceOutcome.InvalidResponse), true, 502)]
    [InlineData(nameof(SourceOutcome.HttpStatus), true, 502)]
    public void Verdict_FollowsTheRequiredSources(string failure, bool required, int status)
    {
        var outcome = Enum.Parse<SourceOutcome>(failure);
        var definition = Definition(requiredB: required);
        var verdict = AggregateVerdict.From(definition, [SourceResult.Ok(200, 1, Body("{}")), SourceResult.Failed(outcome, 1, "x")]);
        Assert.Equal(new AggregateVerdict(status, Complete: false), verdict);
    }

    [Theory]
    [InlineData(nameof(SourceOutcome.Rejected))]
    [InlineData(nameof(SourceOutcome.CircuitOpen))]
    [InlineData(nameof(SourceOutcome.Cancelled))]
    public void Verdict_RequiredSourceTheGatewayDidNotCall_Is503WithRetryAfter(string failure)
    {
        var outcome = Enum.Parse<SourceOutcome>(failure);
        var definition = Definition(requiredB: true);
        var refused = SourceResult.Failed(outcome, 1, "x").With(0, null, TimeSpan.FromMilliseconds(4200));
        var verdict = AggregateVerdict.From(definition, [SourceResult.Ok(200, 1, Body("{}")), refused]);
        Assert.Equal(new AggregateVerdict(503, Complete: false, TimeSpan.FromMilliseconds(4200)), verdict);
        Assert.Equal("5", Gateway.Downstream.RequestBudget.WholeSeconds(verdict.RetryAfter!.Value));
    }

    [Theory]
    [InlineData(nameof(SourceOutcome.Timeout), nameof(SourceOutcome.CircuitOpen), 504)]
    [InlineData(nameof(SourceOutcome.CircuitOpen), nameof(SourceOutcome.Timeout), 504)]
    [InlineData(nameof(SourceOutcome.Rejected), nameof(SourceOutcome.HttpStatus), 502)]
    [InlineData(nameof(SourceOutcome.Unavailable), nameof(SourceOutcome.Rejected), 502)]
    [InlineData(nameof(SourceOutcome.Timeout), nameof(SourceOutcome.Unavailable), 504)]
    public void Verdict_SeveralRequiredFailures_504Over502Over503(string first, string second, int status)
    {
        var definition = Definition(requiredB: true);
        var results = new[] { SourceResult.Failed(Enum.Parse<SourceOutcome>(first), 1, "x"), SourceResult.Failed(Enum.Parse<SourceOutcome>(second), 1, "y") };
        var verdict = AggregateVerdict.From(definition, results);
        Assert.Equal(status, verdict.StatusCode);
        Assert.Null(verdict.RetryAfter);
    }

    [Fact]
    public void Verdict_RequiredSkippedBecauseInputTimedOut_Is504AndTimeoutWinsOver502()
    {
        var definition = Definition(requiredB: true);
        Assert.Equal(504, AggregateVerdict.From(definition, [SourceResult.Ok(200, 1, Body("{}")), SourceResult.Skipped("x", SourceOutcome.Timeout)]).StatusCode);
        Assert.Equal(502, AggregateVerdict.From(definition, [SourceResult.Ok(200, 1, Body("{}")), SourceResult.Skipped("x", SourceOutcome.HttpStatus)]).StatusCode);
        Assert.Equal(504, AggregateVerdict.From(definition, [SourceResult.Failed(SourceOutcome.Timeout, 1, "x"), SourceResult.Failed(SourceOutcome.Unavailable, 1, "y")]).StatusCode);
        Assert.Equal(504, AggregateVerdict.From(definition, [SourceResult.Failed(SourceOutcome.Unavailable, 1, "x"), SourceResult.Failed(SourceOutcome.Timeout, 1, "y")]).StatusCode);
    }
}
