using System.Buffers;
using System.Text;

namespace Gateway.Model;

/// <summary>
/// A source's <c>Path</c>: literal text with <c>{placeholders}</c> in path segments and query values.
/// Every substituted value is percent-encoded for where it lands, so no value can change the host, the
/// path segment it sits in, or the query parameter it belongs to.
/// </summary>
internal sealed class PathTemplate
{
    private static readonly SearchValues<char> SegmentSeparators = SearchValues.Create("/\\");

    private readonly Part[] _path;
    private readonly QueryParameter[] _query;

    private PathTemplate(string text, Part[] path, QueryParameter[] query)
    {
        Text = text;
        _path = path;
        _query = query;
        Placeholders = [.. path.Concat(query.SelectMany(q => q.Value)).Select(p => p.Placeholder).OfType<Placeholder>()];
    }

    public string Text { get; }

    public IReadOnlyList<Placeholder> Placeholders { get; }

    /// <summary>The rendered path when the template has no placeholders, else null.</summary>
    public string? Constant => Placeholders.Count == 0 ? Render(NoValues.Instance, out _) : null;

    /// <summary>
    /// Parses <paramref name="text"/>; <paramref name="resolve"/> turns a placeholder's name (without braces
    /// and <c>?</c>), whether it is optional and whether it sits in the path, into a <see cref="Placeholder"/>
    /// or an error.
    /// </summary>
    public static PathTemplate? Parse(string text, Func<string, bool, bool, (Placeholder? Placeholder, string? Error)> resolve, out string? error)
    {
        error = null;
        if (!text.StartsWith('/'))
        {
            error = $"'{text}' must start with '/'";
            return null;
        }

        if (text.Contains('#'))
        {
            error = $"'{text}' must not contain a fragment";
            return null;
        }

        var questionMark = QueryStart(text);
        var pathText = questionMark < 0 ? text : text[..questionMark];
        var path = ParseParts(pathText, inQuery: false, resolve, ref error);
        if (error is null && FindDotOnlySegment(path) is { } segment)
        {
            error = $"'{text}': the segment '{segment}' could render as '.' or '..'; a placeholder must fill its segment alone or share it with text other than dots";
            return null;
        }

        var query = new List<QueryParameter>();
        if (questionMark >= 0 && error is null)
        {
            foreach (var pair in text[(questionMark + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=');
                var name = equals < 0 ? pair : pair[..equals];
                if (name.Length == 0 || name.AsSpan().IndexOfAny('{', '}') >= 0)
                {
                    error = $"'{text}': query parameter names must be literal text ('{pair}')";
                    return null;
                }

                var value = ParseParts(equals < 0 ? "" : pair[(equals + 1)..], inQuery: true, resolve, ref error);
                if (error is not null)
                {
                    break;
                }

                query.Add(new QueryParameter(name, value, value.Any(p => p.Placeholder is { Optional: true })));
            }
        }

        return error is null ? new PathTemplate(text, path, [.. query]) : null;
    }

    // A segment of placeholders and dots only (".{a}", "{a}{b}") can render as a dot-segment even though
    // each value is checked on its own; a lone placeholder is checked when its value is known.
    private static string? FindDotOnlySegment(Part[] path)
    {
        var segment = new System.Text.StringBuilder();
        var placeholders = 0;
        var dots = 0;
        var onlyDots = true;
        string? Close()
        {
            var found = placeholders > 0 && onlyDots && (placeholders > 1 || dots > 0) ? segment.ToString() : null;
            segment.Clear();
            placeholders = dots = 0;
            onlyDots = true;
            return found;
        }

        foreach (var part in path)
        {
            if (part.Placeholder is { } placeholder)
            {
                placeholders++;
                segment.Append('{').Append(placeholder.Name).Append('}');
                continue;
            }

            foreach (var c in part.Literal!)
            {
                if (c == '/')
                {
                    if (Close() is { } found)
                    {
                        return found;
                    }

                    continue;
                }

                segment.Append(c);
                onlyDots &= c == '.';
                dots += c == '.' ? 1 : 0;
            }
        }

        return Close();
    }

    // The first '?' outside braces: the one in "{limit?}" does not start a query.
    private static int QueryStart(string text)
    {
        var depth = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '{': depth++; break;
                case '}': depth--; break;
                case '?' when depth == 0: return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Renders the path and query. Returns null and names the placeholder when a value a required part
    /// needs is missing or empty, or a path segment's value is unsafe (<see cref="IsUnsafeSegment"/>); a
    /// query parameter with a missing optional value is left out.
    /// </summary>
    public string? Render(IPlaceholderValues values, out Placeholder? missing)
    {
        missing = null;
        var builder = new StringBuilder(Text.Length + 32);
        foreach (var part in _path)
        {
            if (!Append(builder, part, values, inQuery: false, ref missing))
            {
                return null;
            }
        }

        var separator = '?';
        foreach (var parameter in _query)
        {
            var mark = builder.Length;
            builder.Append(separator).Append(parameter.Name);
            if (parameter.Value.Length > 0)
            {
                builder.Append('=');
            }

            var complete = true;
            foreach (var part in parameter.Value)
            {
                if (!Append(builder, part, values, inQuery: true, ref missing))
                {
                    complete = false;
                    break;
                }
            }

            if (complete)
            {
                separator = '&';
            }
            else if (parameter.Optional)
            {
                builder.Length = mark;
                missing = null;
            }
            else
            {
                return null;
            }
        }

        return builder.ToString();
    }

    /// <summary>
    /// True for a value that cannot be sent as one path segment whatever the encoding: "." and ".." (servers
    /// resolve <c>%2E%2E</c> like "..") and any value holding '/' or '\' (servers such as nginx decode
    /// <c>%2F</c> before resolving dot-segments, so "..%2Fadmin" reaches /admin; IIS treats '\' as '/').
    /// </summary>
    public static bool IsUnsafeSegment(string? value) =>
        value is "." or ".." || (value is not null && value.AsSpan().IndexOfAny(SegmentSeparators) >= 0);

    /// <summary>
    /// Why <paramref name="value"/> gave no path segment: it has none, or it is unsafe (<see cref="IsUnsafeSegment"/>).
    /// Worded to follow the placeholder's name: "{id} has no value".
    /// </summary>
    public static string SegmentProblem(string? value) => value switch
    {
        null or "" => "has no value",
        "." or ".." => "is '.' or '..', which cannot be sent as a path segment",
        _ => "contains '/' or '\\', which cannot be sent inside a path segment",
    };

    private static bool Append(StringBuilder builder, Part part, IPlaceholderValues values, bool inQuery, ref Placeholder? missing)
    {
        if (part.Placeholder is not { } placeholder)
        {
            builder.Append(part.Literal);
            return true;
        }

        var value = values.Get(placeholder);
        if (string.IsNullOrEmpty(value))
        {
            missing = placeholder;
            return false;
        }

        // EscapeDataString leaves only unreserved characters, but "." and ".." are dot-segments even
        // percent-encoded (RFC 3986 6.2.2.2), and many servers decode %2F and %5C before resolving them.
        // No encoding keeps such a value inside its segment, so it is refused.
        if (!inQuery && IsUnsafeSegment(value))
        {
            missing = placeholder;
            return false;
        }

        builder.Append(Uri.EscapeDataString(value));
        return true;
    }

    private static Part[] ParseParts(string text, bool inQuery, Func<string, bool, bool, (Placeholder?, string?)> resolve, ref string? error)
    {
        var parts = new List<Part>();
        var position = 0;
        while (error is null && position < text.Length)
        {
            var open = text.IndexOf('{', position);
            var close = text.IndexOf('}', position);
            if (open < 0)
            {
                if (close >= 0)
                {
                    error = $"unmatched '}}' in '{text}'";
                    break;
                }

                parts.Add(new Part(text[position..], null));
                break;
            }

            if (close < open)
            {
                error = $"unmatched '{(close < 0 ? "{" : "}")}' in '{text}'";
                break;
            }

            if (open > position)
            {
                parts.Add(new Part(text[position..open], null));
            }

            var name = text[(open + 1)..close];
            var optional = name.EndsWith('?');
            if (optional)
            {
                name = name[..^1];
            }

            if (name.Length == 0 || name.AsSpan().IndexOfAny("{/?&=#") >= 0)
            {
                error = $"'{{{text[(open + 1)..close]}}}' is not a valid placeholder";
                break;
            }

            if (optional && !inQuery)
            {
                error = $"'{{{name}?}}': optional placeholders are only allowed in query values";
                break;
            }

            var (placeholder, problem) = resolve(name, optional, !inQuery);
            if (placeholder is null)
            {
                error = problem ?? $"'{{{name}}}' cannot be resolved";
                break;
            }

            parts.Add(new Part(null, placeholder));
            position = close + 1;
        }

        return [.. parts];
    }

    private readonly record struct Part(string? Literal, Placeholder? Placeholder);

    private sealed record QueryParameter(string Name, Part[] Value, bool Optional);

    private sealed class NoValues : IPlaceholderValues
    {
        public static readonly NoValues Instance = new();

        public string? Get(Placeholder placeholder) => null;
    }
}

/// <summary>
/// A <c>{name}</c> in a source path: a client value (route value, else query value) when
/// <see cref="SourceIndex"/> is negative, else a field of the source at that index.
/// </summary>
internal sealed record Placeholder(string Name, bool Optional, int ClientIndex, int SourceIndex, string[] FieldPath)
{
    public bool IsSourceField => SourceIndex >= 0;
}

/// <summary>Supplies the values of placeholders while a path is rendered.</summary>
internal interface IPlaceholderValues
{
    string? Get(Placeholder placeholder);
}
