using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Model;

namespace Gateway.Aggregation;

/// <summary>
/// Writes the response envelope: <c>data</c> (each successful source's JSON, copied byte for byte),
/// <c>errors</c> (one entry per failed source) and <c>meta</c>.
/// </summary>
internal static class EnvelopeWriter
{
    // The envelope is served as application/json, never embedded in HTML: no need to escape quotes or '<'.
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonEncodedText Data = JsonEncodedText.Encode("data");
    private static readonly JsonEncodedText Errors = JsonEncodedText.Encode("errors");
    private static readonly JsonEncodedText Meta = JsonEncodedText.Encode("meta");
    private static readonly JsonEncodedText Complete = JsonEncodedText.Encode("complete");
    private static readonly JsonEncodedText ElapsedMs = JsonEncodedText.Encode("elapsedMs");
    private static readonly JsonEncodedText Sources = JsonEncodedText.Encode("sources");
    private static readonly JsonEncodedText Source = JsonEncodedText.Encode("source");
    private static readonly JsonEncodedText Kind = JsonEncodedText.Encode("kind");
    private static readonly JsonEncodedText Message = JsonEncodedText.Encode("message");
    private static readonly JsonEncodedText Status = JsonEncodedText.Encode("status");
    private static readonly JsonEncodedText Outcome = JsonEncodedText.Encode("outcome");
    private static readonly JsonEncodedText Attempts = JsonEncodedText.Encode("attempts");
    private static readonly JsonEncodedText QueuedMs = JsonEncodedText.Encode("queuedMs");
    private static readonly JsonEncodedText Cache = JsonEncodedText.Encode("cache");
    private static readonly JsonEncodedText Fresh = JsonEncodedText.Encode("fresh");
    private static readonly JsonEncodedText Stale = JsonEncodedText.Encode("stale");
    private static readonly JsonEncodedText AgeMs = JsonEncodedText.Encode("ageMs");

    // Writing is synchronous, so one writer per thread can be reset onto each response's output.
    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public static void Write(IBufferWriter<byte> output, AggregateDefinition definition, SourceResult[] results, AggregateVerdict verdict, long elapsedMs)
    {
        var writer = t_writer ??= new Utf8JsonWriter(Stream.Null, WriterOptions);
        writer.Reset(output);
        try
        {
            WriteEnvelope(writer, definition, results, verdict, elapsedMs);
            writer.Flush();
        }
        finally
        {
            // Do not keep the response's pipe alive through the cached writer.
            writer.Reset(Stream.Null);
        }
    }

    private static void WriteEnvelope(Utf8JsonWriter writer, AggregateDefinition definition, SourceResult[] results, AggregateVerdict verdict, long elapsedMs)
    {
        var sources = definition.Sources;
        writer.WriteStartObject();

        writer.WriteStartObject(Data);
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i].Body is { } body)
            {
                writer.WritePropertyName(sources[i].EncodedName);
                // Validated when it was read: copy, do not re-validate.
                writer.WriteRawValue(body.Span, skipInputValidation: true);
            }
        }

        writer.WriteEndObject();

        writer.WriteStartArray(Errors);
        for (var i = 0; i < results.Length; i++)
        {
            var result = results[i];
            if (result.IsOk)
            {
                continue;
            }

            writer.WriteStartObject();
            writer.WriteString(Source, sources[i].EncodedName);
            writer.WriteString(Kind, result.Outcome.ToJson());
            if (result.Status is { } status)
            {
                writer.WriteNumber(Status, status);
            }

            writer.WriteString(Message, result.Message);
            writer.WriteNumber(ElapsedMs, result.ElapsedMs);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();

        writer.WriteStartObject(Meta);
        writer.WriteBoolean(Complete, verdict.Complete);
        writer.WriteNumber(ElapsedMs, elapsedMs);
        writer.WriteStartObject(Sources);
        for (var i = 0; i < results.Length; i++)
        {
            var result = results[i];
            writer.WriteStartObject(sources[i].EncodedName);
            writer.WriteString(Outcome, result.Outcome.ToJson());
            if (result.Status is { } status)
            {
                writer.WriteNumber(Status, status);
            }

            writer.WriteNumber(ElapsedMs, result.ElapsedMs);
            if (result.Attempts > 1)
            {
                writer.WriteNumber(Attempts, result.Attempts);
            }

            if (result.QueuedMs is { } queuedMs)
            {
                writer.WriteNumber(QueuedMs, queuedMs);
            }

            if (result.Cache != CacheState.None)
            {
                writer.WriteString(Cache, result.Cache == CacheState.Fresh ? Fresh : Stale);
            }

            if (result.AgeMs is { } ageMs)
            {
                writer.WriteNumber(AgeMs, ageMs);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();

        writer.WriteEndObject();
    }
}
