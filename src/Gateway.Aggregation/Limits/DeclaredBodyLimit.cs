using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Model;

namespace Gateway.Limits;

/// <summary>
/// A request that declares a <c>Content-Length</c> over the body limit (the route's <c>MaxRequestBodySize</c>,
/// else Kestrel's) is answered 413 before anything reaches a downstream. Kestrel would refuse it too, but only
/// once the route reads the body, after YARP has already sent the request line and headers downstream.
/// </summary>
internal sealed class DeclaredBodyLimit(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength is { } declared && declared > 0 && declared > Limit(context))
        {
            context.Response.Headers.Connection = "close";
            return Results.Problem(
                statusCode: StatusCodes.Status413PayloadTooLarge,
                title: "Request body too large",
                detail: $"The request body may be at most {Limit(context)} bytes.").ExecuteAsync(context);
        }

        return next(context);
    }

    private static long Limit(HttpContext context)
    {
        // YARP applies a route's own limit later in its pipeline; read it here from the route's configuration.
        if (context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>()?.Config.MaxRequestBodySize is { } route)
        {
            return route < 0 ? long.MaxValue : route;
        }

        return context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? long.MaxValue;
    }
}
