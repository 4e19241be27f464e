using Gateway.Aggregation;
using Gateway.Configuration;
using Gateway.Limits;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Gateway.OpenApi;

/// <summary>
/// The OpenAPI document and Swagger UI, generated from the configuration: one operation per aggregate
/// (configured or <c>MapAggregate</c>), one per method of each pass-through route.
/// </summary>
internal static class OpenApiExtensions
{
    /// <summary>The one document's name, in its path.</summary>
    public const string DocumentName = "v1";

    /// <summary>Where the document is served.</summary>
    public const string DocumentPath = "/openapi/" + DocumentName + ".json";

    /// <summary>Where Swagger UI is served.</summary>
    public const string UiPath = "/swagger";

    /// <summary>Registers Swashbuckle's generator with the gateway's document filter.</summary>
    public static IServiceCollection AddGatewayOpenApi(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IReservedEndpoints, Paths>());
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen();
        services.TryAddEnumerable(ServiceDescriptor.Transient<IConfigureOptions<SwaggerGenOptions>, GatewaySwaggerSetup>());
        services.TryAddSingleton<OpenApiDocumentCache>();
        return services;
    }

    /// <summary>
    /// Serves the document at <see cref="DocumentPath"/> (generated once, see <see cref="OpenApiDocumentCache"/>,
    /// and under the inbound limits like the gateway's traffic) and Swagger UI at <see cref="UiPath"/>, unless
    /// <c>Gateway:OpenApi:Enabled</c> is false. Throws <see cref="Configuration.GatewayConfigurationException"/>
    /// when the configuration is invalid.
    /// </summary>
    public static WebApplication MapDocument(WebApplication app)
    {
        var catalog = app.Services.GetRequiredService<AggregationCatalog>();
        catalog.ThrowIfInvalid();
        var options = catalog.Options.OpenApi;
        if (!options.Enabled)
        {
            return app;
        }

        app.MapMethods(DocumentPath, [HttpMethods.Get, HttpMethods.Head], WriteDocumentAsync).ExcludeFromDescription().CountAsGatewayTraffic();
        // Only requests under /swagger meet Swagger UI's middleware (it matches paths with a regex per request).
        app.UseWhen(context => context.Request.Path.StartsWithSegments(UiPath, StringComparison.OrdinalIgnoreCase), branch => branch.UseSwaggerUI(ui =>
        {
            ui.RoutePrefix = UiPath.TrimStart('/');
            // Relative to /swagger/index.html, so that a PathBase (the gateway behind a prefix) is kept.
            ui.SwaggerEndpoint($"..{DocumentPath}", options.Title);
            ui.DocumentTitle = options.Title;
        }));
        return app;
    }

    private static Task WriteDocumentAsync(HttpContext context)
    {
        var pathBase = context.Request.PathBase;
        var document = context.RequestServices.GetRequiredService<OpenApiDocumentCache>().Get(pathBase.HasValue ? pathBase.Value : null);
        var response = context.Response;
        response.ContentType = "application/json;charset=utf-8";
        response.ContentLength = document.Length;
        if (pathBase.HasValue)
        {
            // The document names the path base, which may differ per request: not for a shared cache.
            response.Headers.CacheControl = "private";
        }

        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(document, context.RequestAborted).AsTask();
    }

    private sealed class Paths : IReservedEndpoints
    {
        public IEnumerable<ReservedEndpoint> Reserve(GatewayOptions options) => options.OpenApi.Enabled
            ? [new(DocumentPath, ["GET"], "Gateway:OpenApi"), new(UiPath, ["GET"], "Gateway:OpenApi")]
            : [];
    }
}
