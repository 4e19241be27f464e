using System.Globalization;
using System.Text.Json;

namespace Gateway.Aggregation;

/// <summary>Reads one scalar field out of JSON bytes by a dotted path, without building a document.</summary>
internal static class JsonField
{
    /// <summary>
    /// The field's text: a string's value, a number's or boolean's literal. Null when the path does not lead
    /// to a scalar (missing, null, object or array). A numeric segment indexes an array.
    /// </summary>
    public static string? GetScalar(ReadOnlySpan<byte> json, IReadOnlyList<string> path)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        if (!reader.Read())
        {
            return null;
        }

        foreach (var segment in path)
        {
            if (!Descend(ref reader, segment))
            {
                return null;
            }
        }

        return reader.TokenType switch
        {
            JsonTokenType.String => GetString(ref reader),
            JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False => System.Text.Encoding.UTF8.GetString(reader.ValueSpan),
            _ => null,
        };
    }

    // Valid UTF-8 can still escape a lone surrogate ("\ud800"), which has no string value: treat as missing.
    private static string? GetString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    // Leaves the reader on the value of `segment` inside the current object or array.
    private static bool Descend(ref Utf8JsonReader reader, string segment)
    {
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var match = reader.ValueTextEquals(segment);
                reader.Read();
                if (match)
                {
                    return true;
                }

                reader.Skip();
            }

            return false;
        }

        if (reader.TokenType == JsonTokenType.StartArray && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            for (var i = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; i++)
            {
                if (i == index)
                {
                    return true;
                }

                reader.Skip();
            }
        }

        return false;
    }
}
