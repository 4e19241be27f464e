using System.Net;
using System.Text.Json;

namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>A gateway answer read whole: status, headers, body text and, when it is JSON, its root.</summary>
public sealed class AggregateAnswer
{
    public const string CompleteHeader = "X-Aggregate-Complete";

    public AggregateAnswer(HttpResponseMessage response, string body, TimeSpan elapsed)
    {
        StatusCode = response.StatusCode;
        Headers = response.Headers;
        Body = body;
        Elapsed = elapsed;
        ContentType = response.Content.Headers.ContentType?.MediaType;
        Complete = response.Headers.TryGetValues(CompleteHeader, out var values) ? string.Join(",", values) : null;
        if (ContentType is not null && ContentType.Contains("json", StringComparison.OrdinalIgnoreCase) && body.Length > 0)
        {
            using var document = JsonDocument.Parse(body);
            Root = document.RootElement.Clone();
        }
    }

    public HttpStatusCode StatusCode { get; }

    /// <summary>The response headers (content headers excepted).</summary>
    public System.Net.Http.Headers.HttpResponseHeaders Headers { get; }

    /// <summary>The value of <c>X-Aggregate-Complete</c>, null when absent.</summary>
    public string? Complete { get; }

    public string? ContentType { get; }

    public string Body { get; }

    /// <summary>From sending the request to having read the whole answer.</summary>
    public TimeSpan Elapsed { get; }

    public JsonElement Root { get; }

    public JsonElement Data => Root.GetProperty("data");

    public IReadOnlyList<JsonElement> Errors => [.. Root.GetProperty("errors").EnumerateArray()];

    public JsonElement Meta => Root.GetProperty("meta");

    public bool HasData(string source) => Data.TryGetProperty(source, out _);

    /// <summary>The error entry of <paramref name="source"/>; fails the test when there is none.</summary>
    public JsonElement Error(string source)
    {
        var matches = Errors.Where(e => e.GetProperty("source").GetString() == source).ToList();
        Assert.True(matches.Count == 1, $"expected one error entry for '{source}' in {Body}");
        return matches[0];
    }

    public string ErrorKind(string source) => Error(source).GetProperty("kind").GetString()!;

    /// <summary><c>meta.sources.&lt;source&gt;</c>.</summary>
    public JsonElement SourceMeta(string source) => Meta.GetProperty("sources").GetProperty(source);

    public string Outcome(string source) => SourceMeta(source).GetProperty("outcome").GetString()!;

    public override string ToString() => $"{(int)StatusCode} {CompleteHeader}={Complete} {Body}";
}
