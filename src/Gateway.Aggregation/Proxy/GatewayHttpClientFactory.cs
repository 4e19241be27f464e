using System.Diagnostics;
using Gateway.Downstream;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Proxy;

/// <summary>
/// YARP's client factory (so a cluster's <c>HttpClient</c> settings apply to routes and aggregate sources
/// alike), with the gateway's trace propagation in place of YARP's pass-through of the client's headers, and the
/// untraced twin of each cluster's invoker that aggregate calls send through (see <see cref="CallTransports"/>).
/// </summary>
internal sealed class GatewayHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger, CallTransports transports) : IForwarderHttpClientFactory
{
    private readonly Factory _traced = new(logger, transports.Propagation);

    // Without a propagator SocketsHttpHandler leaves DiagnosticsHandler out: no span, no header of its own.
    private readonly Factory _untraced = new(logger, null);

    public HttpMessageInvoker CreateClient(ForwarderHttpClientContext context)
    {
        // YARP hands back the old client when the cluster's settings did not change: its twin is there already.
        var client = _traced.CreateClient(context);
        if (transports.Untraced && !transports.HasTwin(client))
        {
            transports.AddTwin(client, _untraced.CreateClient(new ForwarderHttpClientContext
            {
                ClusterId = context.ClusterId,
                NewConfig = context.NewConfig,
                NewMetadata = context.NewMetadata,
            }));
        }

        return client;
    }

    private sealed class Factory(ILogger<ForwarderHttpClientFactory> logger, DistributedContextPropagator? propagator) : ForwarderHttpClientFactory(logger)
    {
        protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
        {
            base.ConfigureHandler(context, handler);
            handler.ActivityHeadersPropagator = propagator;
        }
    }
}
