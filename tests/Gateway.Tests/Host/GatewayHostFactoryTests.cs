using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Gateway.Tests.Host;

/// <summary>
/// The host as <c>dotnet run --project src/Gateway</c> builds it (Program.cs, the root appsettings.json with its demo),
/// served in memory by <see cref="WebApplicationFactory{TEntryPoint}"/>: what needs no network (the probes, the
/// document built from the configuration) is checked here; what crosses the network runs on Kestrel in the
/// integration tests.
/// </summary>
public sealed class GatewayHostFactoryTests : IClassFixture<WebApplicationFactory<Program>>
{
    private readonly WebApplicationFactory<Program> _factory;

    public GatewayHostFactoryTests(WebApplicationFactory<Program> factory) => _factory = factory;

    [Fact]
    public async Task Liveness_InMemory_Answers200()
    {
        using var client = _factory.CreateClient();

        using var response = await client.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task OpenApiDocument_InMemory_DescribesEveryAggregateOfTheShippedConfiguration()
    {
        using var client = _factory.CreateClient();

        using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));

        // The shipped file's aggregates, read from the file itself: the document is built from what the host loaded.
        using var shipped = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "appsettings.json")));
        var routes = shipped.RootElement.GetProperty("Gateway").GetProperty("Aggregates").EnumerateObject()
            .Select(a => a.Value.GetProperty("Route").GetString()!)
            .ToList();
        Assert.NotEmpty(routes);
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var route in routes)
        {
            // OpenAPI paths drop route constraints ({id:int} is {id}).
            var path = System.Text.RegularExpressions.Regex.Replace(route, @"\{(\w+)(:[^}]*)?\}", "{$1}");
            Assert.Contains(path, paths);
        }
    }
}
