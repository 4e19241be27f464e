using Gateway.OpenApi;

namespace Microsoft.Extensions.DependencyInjection
{
    /// <summary>Registers the OpenAPI document of the gateway's aggregates and routes.</summary>
    public static class GatewayOpenApiBuilderExtensions
    {
        /// <summary>
        /// The OpenAPI document (<c>/openapi/v1.json</c>) and Swagger UI (<c>/swagger</c>) of the aggregates, with the
        /// envelope's schema, when the section's <c>OpenApi:Enabled</c> is true;
        /// <see cref="Microsoft.AspNetCore.Builder.GatewayOpenApiApplicationExtensions.MapGatewayOpenApi"/> maps them.
        /// </summary>
        public static IGatewayBuilder AddOpenApi(this IGatewayBuilder builder)
        {
            ArgumentNullException.ThrowIfNull(builder);
            builder.Services.AddGatewayOpenApi();
            return builder;
        }
    }
}

namespace Microsoft.AspNetCore.Builder
{
    /// <summary>Maps the OpenAPI document of the gateway's aggregates and routes.</summary>
    public static class GatewayOpenApiApplicationExtensions
    {
        /// <summary>Maps the OpenAPI document and Swagger UI when the gateway's <c>OpenApi:Enabled</c> is true.</summary>
        public static WebApplication MapGatewayOpenApi(this WebApplication app) => OpenApiExtensions.MapDocument(app);
    }
}
