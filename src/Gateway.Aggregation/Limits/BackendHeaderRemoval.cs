using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Limits;

/// <summary>
/// What a route must not pass on, in either direction. Back to the client: the headers that name the software or the
/// hosts behind the gateway (Kestrel writes no <c>Server</c> of its own; a downstream's would still pass through).
/// On to the downstream: a client's <c>X-Real-IP</c>, which a downstream may take for the caller's address; the
/// gateway's own <c>X-Forwarded-For</c> says where the request came from.
/// </summary>
internal sealed class BackendHeaderRemoval : ITransformProvider
{
    /// <summary>Removed from every route answer.</summary>
    public static readonly string[] ResponseHeaders = ["Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version", "X-Backend-Server", "Via"];

    /// <summary>Removed from every proxied request.</summary>
    public static readonly string[] RequestHeaders = ["X-Real-IP"];

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        foreach (var header in ResponseHeaders)
        {
            context.AddResponseHeaderRemove(header, ResponseCondition.Always);
        }

        foreach (var header in RequestHeaders)
        {
            context.AddRequestHeaderRemove(header);
        }
    }
}
