using Gateway.Aggregation;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Gateway.OpenApi;

/// <summary>Names the document after <c>Gateway:OpenApi:Title</c> and adds the aggregates and routes to it.</summary>
internal sealed class GatewaySwaggerSetup(AggregationCatalog catalog) : IConfigureOptions<SwaggerGenOptions>
{
    public void Configure(SwaggerGenOptions options)
    {
        options.SwaggerDoc(OpenApiExtensions.DocumentName, new OpenApiInfo
        {
            Title = catalog.Options.OpenApi.Title,
            Version = OpenApiExtensions.DocumentName,
            Description = "Aggregates answer one JSON envelope (`data`, `errors`, `meta`) merged from several downstream "
                + "sources called at once; pass-through routes forward the request as it is.",
        });
        options.DocumentFilter<GatewayDocumentFilter>();
    }
}
