using Gateway.Model;

namespace Gateway.Tests.Model;

public sealed class PathTemplateTests
{
    private static PathTemplate Parse(string text)
    {
        var names = new List<string>();
        var template = PathTemplate.Parse(text, (name, optional, inPath) =>
        {
            if (!names.Contains(name))
            {
                names.Add(name);
            }

            return (new Placeholder(name, optional, names.IndexOf(name), -1, []), null);
        }, out var error);
        Assert.True(template is not null, error);
        return template!;
    }

    private sealed class Values(Dictionary<string, string?> values) : IPlaceholderValues
    {
        public string? Get(Placeholder placeholder) => values.GetValueOrDefault(placeholder.Name);
    }

    private static string? Render(string template, Dictionary<string, string?> values) =>
        Parse(template).Render(new Values(values), out _);

    [Theory]
    [InlineData("a?c#d", "/users/a%3Fc%23d")]
    [InlineData("%2F", "/users/%252F")]
    [InlineData("%2E%2E", "/users/%252E%252E")]
    [InlineData("...", "/users/...")]
    [InlineData("x y", "/users/x%20y")]
    public void Render_HostileRouteValue_StaysInOneSegment(string value, string expected)
    {
        Assert.Equal(expected, Render("/users/{id}", new() { ["id"] = value }));
    }

    [Theory]
    [InlineData("../admin")]
    [InlineData("..\\admin")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("/")]
    [InlineData("admin/")]
    public void Render_SlashOrBackslashInPath_IsRefusedNotEncoded(string value)
    {
        // Servers such as nginx decode %2F (and IIS %5C) before resolving dot-segments: "..%2Fadmin" reaches /admin.
        var template = Parse("/users/{id}/profile");
        Assert.Null(template.Render(new Values(new() { ["id"] = value }), out var missing));
        Assert.Equal("id", missing!.Name);
        Assert.Equal("/orders?user=" + Uri.EscapeDataString(value), Render("/orders?user={id}", new() { ["id"] = value }));
    }

    [Theory]
    [InlineData(".", true)]
    [InlineData("..", true)]
    [InlineData("../admin", true)]
    [InlineData("a\\b", true)]
    [InlineData("/", true)]
    [InlineData("...", false)]
    [InlineData("a.b", false)]
    [InlineData("%2F", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsUnsafeSegment_Value_TrueForDotSegmentsAndSeparators(string? value, bool expected) =>
        Assert.Equal(expected, PathTemplate.IsUnsafeSegment(value));

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    public void Render_DotSegmentInPath_IsRefusedNotEncoded(string value)
    {
        // %2E%2E is still a dot-segment (RFC 3986 6.2.2.2): downstream servers resolve it.
        var template = Parse("/users/{id}/profile");
        Assert.Null(template.Render(new Values(new() { ["id"] = value }), out var missing));
        Assert.Equal("id", missing!.Name);
        Assert.Equal("/orders?user=..", Render("/orders?user={id}", new() { ["id"] = ".." }));
        Assert.Equal("/users/...", Render("/users/{id}", new() { ["id"] = "..." }));
    }

    [Theory]
    [InlineData(null, "has no value")]
    [InlineData("", "has no value")]
    [InlineData("..", "is '.' or '..'")]
    [InlineData("../admin", "contains '/' or '\\'")]
    [InlineData("a\\b", "contains '/' or '\\'")]
    public void SegmentProblem_RefusedValue_SaysWhy(string? value, string expected) =>
        Assert.StartsWith(expected, PathTemplate.SegmentProblem(value), StringComparison.Ordinal);

    [Fact]
    public void Render_HostileQueryValue_StaysOneQueryValue()
    {
        var rendered = Render("/orders?user={user}&limit=5", new() { ["user"] = "1&admin=true#x" });
        Assert.Equal("/orders?user=1%26admin%3Dtrue%23x&limit=5", rendered);
    }

    [Fact]
    public void Render_OptionalQueryValueMissing_LeavesParameterOut()
    {
        Assert.Equal("/orders?user=7", Render("/orders?user={user}&limit={limit?}", new() { ["user"] = "7" }));
        Assert.Equal("/orders?limit=3", Render("/orders?user={user?}&limit={limit}", new() { ["limit"] = "3" }));
        Assert.Equal("/orders?user=7&limit=3", Render("/orders?user={user}&limit={limit?}", new() { ["user"] = "7", ["limit"] = "3" }));
    }

    [Fact]
    public void Render_RequiredValueMissingOrEmpty_ReturnsNullAndNamesIt()
    {
        var template = Parse("/users/{id}?x={x}");
        Assert.Null(template.Render(new Values(new() { ["x"] = "1" }), out var missing));
        Assert.Equal("id", missing!.Name);
        Assert.Null(template.Render(new Values(new() { ["id"] = "", ["x"] = "1" }), out missing));
        Assert.Equal("id", missing!.Name);
    }

    [Theory]
    [InlineData("/x/{a}/y")]
    [InlineData("/x/v.{a}")]
    [InlineData("/x/{a}.json")]
    [InlineData("/x/{a}-{b}")]
    public void Parse_PlaceholderWithNonDotText_IsAccepted(string text) => Parse(text);

    [Fact]
    public void Constant_NoPlaceholders_IsThePath()
    {
        Assert.Equal("/health?full=true", Parse("/health?full=true").Constant);
        Assert.Null(Parse("/users/{id}").Constant);
    }

    [Theory]
    [InlineData("users/{id}", "must start with '/'")]
    [InlineData("/users/{id?}", "only allowed in query values")]
    [InlineData("/users/{id", "unmatched")]
    [InlineData("/users/id}", "unmatched")]
    [InlineData("/users/{}", "not a valid placeholder")]
    [InlineData("/users?{name}=1", "query parameter names must be literal")]
    [InlineData("/users#top", "fragment")]
    [InlineData("/x/.{a}/y", "could render as '.' or '..'")]
    [InlineData("/x/{a}{b}", "could render as '.' or '..'")]
    [InlineData("/x/{a}./y", "could render as '.' or '..'")]
    public void Parse_BadTemplate_SaysWhy(string text, string expected)
    {
        var template = PathTemplate.Parse(text, (name, optional, inPath) => (new Placeholder(name, optional, 0, -1, []), null), out var error);
        Assert.Null(template);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
