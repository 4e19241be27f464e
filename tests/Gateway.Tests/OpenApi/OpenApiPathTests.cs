using Gateway.OpenApi;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.OpenApi;

namespace Gateway.Tests.OpenApi;

public sealed class OpenApiPathTests
{
    [Fact]
    public void From_ConstraintsComplexSegmentAndCatchAll_OpenApiPathWithEveryParameter()
    {
        var path = OpenApiPath.From(RoutePatternFactory.Parse("/api/{id:int}/report.{format}/{**rest}"), out var parameters);

        Assert.Equal("/api/{id}/report.{format}/{rest}", path);
        Assert.Equal(["id", "format", "rest"], parameters.Select(p => p.Name));
    }

    [Fact]
    public void From_Root_IsSlash() => Assert.Equal("/", OpenApiPath.From(RoutePatternFactory.Parse("/"), out _));

    [Fact]
    public void Parameter_IntConstraintAndCatchAll_TypedRequiredAndSaysItTakesSlashes()
    {
        OpenApiPath.From(RoutePatternFactory.Parse("/api/{id:int}/{name}/{**rest}"), out var parameters);

        var id = OpenApiPath.Parameter(parameters[0], "Route value.");
        var name = OpenApiPath.Parameter(parameters[1], "Route value.");
        var rest = OpenApiPath.Parameter(parameters[2], "Route value.");

        Assert.All([id, name, rest], p => Assert.True(p.Required && p.In == ParameterLocation.Path));
        Assert.Equal(JsonSchemaType.Integer, id.Schema!.Type);
        Assert.Equal(JsonSchemaType.String, name.Schema!.Type);
        Assert.Contains("'/'", rest.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("'/'", name.Description, StringComparison.Ordinal);
    }
}
