using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Limits;

/// <summary>
/// Kestrel no longer writes a <c>Server</c> header; this keeps a downstream's from passing through a route,
/// which would name the software behind the gateway.
/// </summary>
internal sealed class ServerHeaderRemoval : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context) => context.AddResponseHeaderRemove("Server", ResponseCondition.Always);
}
