using System.Net;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace Gateway.IntegrationTests.OpenApi;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c> is generated from the configuration: aggregates from the
/// file and from <c>MapAggregate</c>, each with its parameters, sources, envelope and statuses, and the
/// pass-through routes under their own tag.
/// </summary>
public sealed class OpenApiDocumentTests
{
    private static readonly Uri Nowhere = new("http://127.0.0.1:9/");

    [Fact]
    public async Task Document_ConfigAggregateCodeAggregateAndRoute_DescribesEachFromTheConfiguration()
    {
        var config = new GatewayConfig()
            .Cluster("users", Nowhere)
            .Cluster("orders", Nowhere)
            .Aggregate("dashboard", "/api/dashboard/{userId}", a => a
                .Source("profile", "users", "/users/{userId}", required: true, timeout: TimeSpan.FromMilliseconds(300))
                .Source("orders", "orders", "/orders?user={userId}&limit={limit?}&region={region}", timeout: TimeSpan.FromMilliseconds(150)),
                timeout: TimeSpan.FromSeconds(1))
            .Route("files", "users", "/files/{**rest}", methods: ["GET"]);
        await using var gateway = await TestGateway.StartAsync(config, app => app.MapAggregate("card", "/api/cards/{cardId:int}", a => a
            .WithTimeout(TimeSpan.FromSeconds(2))
            .AddSource("owner", "users", "/cards/{cardId}", required: true)
            .AddSource("history", "orders", "/history/{owner.id}")));

        var answer = await gateway.GetAsync("/openapi/v1.json");

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.Body);
        var document = JsonNode.Parse(answer.Body)!.AsObject();
        var paths = document["paths"]!.AsObject();
        // Only what clients call: no health, no demo, no document of itself.
        Assert.Equal(["/api/cards/{cardId}", "/api/dashboard/{userId}", "/files/{rest}"], paths.Select(p => p.Key).Order(StringComparer.Ordinal));

        var dashboard = Operation(paths, "/api/dashboard/{userId}", "get");
        Assert.Equal("dashboard", (string?)dashboard["operationId"]);
        Assert.Equal(["Aggregates"], Tags(dashboard));
        AssertParameter(dashboard, "userId", "path", required: true);
        AssertParameter(dashboard, "region", "query", required: true);
        AssertParameter(dashboard, "limit", "query", required: false);
        AssertParameter(dashboard, "X-Request-Budget-Ms", "header", required: false);
        var description = (string)dashboard["description"]!;
        Assert.Contains("`profile`: **required**, timeout 300 ms", description, StringComparison.Ordinal);
        Assert.Contains("`orders`: optional, timeout 150 ms", description, StringComparison.Ordinal);
        Assert.Contains("deadline is 1 s", description, StringComparison.Ordinal);
        // Where the sources live stays behind the gateway.
        Assert.DoesNotContain("/orders?", description, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", answer.Body, StringComparison.Ordinal);

        Assert.Equal(["200", "400", "429", "502", "503", "504"], Responses(dashboard));
        var envelope = Resolve(document, dashboard["responses"]!["200"]!["content"]!["application/json"]!["schema"]!);
        Assert.Equal(["data", "errors", "meta"], envelope["required"]!.AsArray().Select(n => (string)n!).Order(StringComparer.Ordinal));
        Assert.Equal(["orders", "profile"], PropertyNames(envelope["properties"]!["data"]!));
        Assert.Equal(["orders", "profile"], PropertyNames(envelope["properties"]!["meta"]!["properties"]!["sources"]!));
        var error = Resolve(document, envelope["properties"]!["errors"]!["items"]!);
        Assert.Contains("stale_expired", error["properties"]!["kind"]!["enum"]!.AsArray().Select(n => (string)n!));
        foreach (var status in new[] { "502", "504" })
        {
            Assert.Same(envelope, Resolve(document, dashboard["responses"]![status]!["content"]!["application/json"]!["schema"]!));
        }

        foreach (var status in new[] { "400", "429", "503" })
        {
            Assert.NotNull(dashboard["responses"]![status]!["content"]!["application/problem+json"]);
        }

        Assert.NotNull(dashboard["responses"]!["503"]!["headers"]!["Retry-After"]);
        Assert.NotNull(dashboard["responses"]!["429"]!["headers"]!["Retry-After"]);

        var card = Operation(paths, "/api/cards/{cardId}", "get");
        Assert.Equal("card", (string?)card["operationId"]);
        var cardId = AssertParameter(card, "cardId", "path", required: true);
        Assert.Equal("integer", (string?)cardId["schema"]!["type"]);
        var cardDescription = (string)card["description"]!;
        Assert.Contains("`owner`: **required**", cardDescription, StringComparison.Ordinal);
        Assert.Contains("`history`: optional, timeout 2 s, after `owner`", cardDescription, StringComparison.Ordinal);
        Assert.Equal(["history", "owner"], PropertyNames(Resolve(document, card["responses"]!["200"]!["content"]!["application/json"]!["schema"]!)["properties"]!["data"]!));

        var files = paths["/files/{rest}"]!.AsObject();
        Assert.Equal(["get"], files.Select(p => p.Key));
        Assert.Equal(["Pass-through routes"], Tags(files["get"]!));
        AssertParameter(files["get"]!, "rest", "path", required: true);
        Assert.Equal(["Aggregates", "Pass-through routes"], document["tags"]!.AsArray().Select(t => (string)t!["name"]!).Order(StringComparer.Ordinal));
    }

    // What Swagger UI shows must be true: a summary and description of the aggregate's own (from the configuration or
    // code), the headers the sources receive as header parameters, a source's data as any JSON (no "string" example),
    // and a backslash that survives Markdown.
    [Fact]
    public async Task Document_SummaryDescriptionHeadersAndData_AsConfiguredAndAnyJson()
    {
        var config = new GatewayConfig()
            .Cluster("users", Nowhere)
            .Cluster("orders", Nowhere)
            .Aggregate("dashboard", "/api/dashboard/{userId}", a => a
                .Source("profile", "users", "/users/{userId}", required: true)
                .Source("orders", "orders", "/orders/{userId}"));
        config.Gateway["Aggregates"]!["dashboard"]!["Summary"] = "A user's dashboard";
        config.Gateway["Aggregates"]!["dashboard"]!["Description"] = "Profile and orders in one call.";
        config.Gateway["PropagateHeaders"] = new JsonArray("Accept-Language");
        config.Gateway["Downstreams"] = new JsonObject { ["orders"] = new JsonObject { ["PropagateHeaders"] = new JsonArray("X-Tenant") } };
        await using var gateway = await TestGateway.StartAsync(config, app => app.MapAggregate("card", "/api/cards/{cardId}", a => a
            .WithSummary("One card")
            .WithDescription("The card and its owner.")
            .AddSource("owner", "users", "/cards/{cardId}", required: true)));

        var answer = await gateway.GetAsync("/openapi/v1.json");

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.Body);
        var document = JsonNode.Parse(answer.Body)!.AsObject();
        var paths = document["paths"]!.AsObject();
        var dashboard = Operation(paths, "/api/dashboard/{userId}", "get");
        Assert.Equal("A user's dashboard", (string?)dashboard["summary"]);
        Assert.StartsWith("Profile and orders in one call.\n\n", (string)dashboard["description"]!, StringComparison.Ordinal);
        Assert.Contains("`profile`: **required**", (string)dashboard["description"]!, StringComparison.Ordinal);
        AssertParameter(dashboard, "Accept-Language", "header", required: false);
        AssertParameter(dashboard, "X-Tenant", "header", required: false);
        var card = Operation(paths, "/api/cards/{cardId}", "get");
        Assert.Equal("One card", (string?)card["summary"]);
        Assert.StartsWith("The card and its owner.", (string)card["description"]!, StringComparison.Ordinal);
        // users propagates only the global list.
        AssertParameter(card, "Accept-Language", "header", required: false);
        Assert.DoesNotContain(card["parameters"]!.AsArray(), p => (string?)p!["name"] == "X-Tenant");

        var data = Resolve(document, dashboard["responses"]!["200"]!["content"]!["application/json"]!["schema"]!)["properties"]!["data"]!;
        foreach (var source in new[] { "profile", "orders" })
        {
            var schema = data["properties"]![source]!.AsObject();
            Assert.False(schema.ContainsKey("type"), schema.ToJsonString());
            Assert.IsType<JsonObject>(schema["example"]);
            Assert.Contains("any JSON value", (string)schema["description"]!, StringComparison.Ordinal);
        }

        // In a Markdown code span a backslash is itself; outside one it escapes the next character and vanishes.
        Assert.Contains("`\\`", (string)dashboard["responses"]!["400"]!["description"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Document_RouteWithoutMethods_ListsTheCommonMethodsWithABodyWhereOneIsSent()
    {
        var config = new GatewayConfig()
            .Cluster("users", Nowhere)
            .Route("users-route", "users", "/users/{id}", configure: r => r["Timeout"] = "5s");
        await using var gateway = await TestGateway.StartAsync(config);

        var answer = await gateway.GetAsync("/openapi/v1.json");

        var path = JsonNode.Parse(answer.Body)!["paths"]!["/users/{id}"]!.AsObject();
        Assert.Equal(["delete", "get", "patch", "post", "put"], path.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.NotNull(path["post"]!["requestBody"]);
        Assert.Null(path["get"]!["requestBody"]);
        Assert.Contains("Deadline 5 s", (string)path["get"]!["description"]!, StringComparison.Ordinal);
        Assert.Equal(5, path.Select(p => (string)p.Value!["operationId"]!).Distinct().Count());
    }

    [Fact]
    public async Task SwaggerUi_Title_ServedAtSwaggerUnderTheTitleAndPointsAtTheDocument()
    {
        var config = OneAggregate();
        config.Gateway["OpenApi"] = new JsonObject { ["Title"] = "Shop API" };
        await using var gateway = await TestGateway.StartAsync(config);

        var redirect = await gateway.GetAsync("/swagger");
        var page = await gateway.GetAsync("/swagger/index.html");
        var settings = await gateway.GetAsync("/swagger/index.js");
        var document = await gateway.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.MovedPermanently, redirect.StatusCode);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<title>Shop API</title>", page.Body, StringComparison.Ordinal);
        Assert.Contains("../openapi/v1.json", settings.Body, StringComparison.Ordinal);
        Assert.Equal("Shop API", (string?)JsonNode.Parse(document.Body)!["info"]!["title"]);
    }

    [Fact]
    public async Task Document_Disabled_DocumentAndSwaggerUiAre404()
    {
        var config = OneAggregate();
        config.Gateway["OpenApi"] = new JsonObject { ["Enabled"] = false };
        await using var gateway = await TestGateway.StartAsync(config);

        Assert.Equal(HttpStatusCode.NotFound, (await gateway.GetAsync("/openapi/v1.json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.GetAsync("/swagger/index.html")).StatusCode);
    }

    [Fact]
    public async Task Start_AggregateOnTheDocumentPath_RefusedNamingBothKeys()
    {
        var config = new GatewayConfig()
            .Cluster("users", Nowhere)
            .Aggregate("shadow", "/openapi/v1.json", a => a.Source("profile", "users", "/users/1"));

        var refused = await Assert.ThrowsAsync<GatewayConfigurationException>(() => TestGateway.StartAsync(config));

        Assert.Contains("Gateway:Aggregates:shadow", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:OpenApi", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_EnabledNotABoolean_RefusedNamingTheKey()
    {
        var config = OneAggregate();
        config.Gateway["OpenApi"] = new JsonObject { ["Enabled"] = "sometimes" };

        var refused = await Assert.ThrowsAsync<GatewayConfigurationException>(() => TestGateway.StartAsync(config));

        Assert.Contains("Gateway:OpenApi:Enabled", refused.Message, StringComparison.Ordinal);
    }

    private static GatewayConfig OneAggregate() => new GatewayConfig()
        .Cluster("users", Nowhere)
        .Aggregate("agg", "/agg/{id}", a => a.Source("profile", "users", "/users/{id}", required: true));

    private static JsonNode Operation(JsonObject paths, string path, string method)
    {
        Assert.True(paths[path] is JsonObject, $"no path {path} in {paths.ToJsonString()}");
        return paths[path]![method] ?? throw new Xunit.Sdk.XunitException($"no {method} on {path}");
    }

    private static string[] Tags(JsonNode operation) => [.. operation["tags"]!.AsArray().Select(t => (string)t!)];

    private static string[] Responses(JsonNode operation) => [.. operation["responses"]!.AsObject().Select(r => r.Key).Order(StringComparer.Ordinal)];

    private static string[] PropertyNames(JsonNode schema) => [.. schema["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal)];

    private static JsonNode AssertParameter(JsonNode operation, string name, string location, bool required)
    {
        var parameter = operation["parameters"]!.AsArray().SingleOrDefault(p => (string?)p!["name"] == name);
        Assert.True(parameter is not null, $"no parameter {name} in {operation["parameters"]!.ToJsonString()}");
        Assert.Equal(location, (string?)parameter["in"]);
        Assert.Equal(required, (bool?)parameter["required"] ?? false);
        return parameter;
    }

    // "#/components/schemas/x" to the schema it names.
    private static JsonNode Resolve(JsonNode document, JsonNode schema)
    {
        var reference = (string?)schema["$ref"];
        Assert.NotNull(reference);
        Assert.StartsWith("#/components/schemas/", reference, StringComparison.Ordinal);
        return document["components"]!["schemas"]![reference["#/components/schemas/".Length..]]!;
    }
}
