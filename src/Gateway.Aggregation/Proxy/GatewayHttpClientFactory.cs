using Gateway.Configuration;
using Gateway.Downstream;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Proxy;

/// <summary>
/// YARP's client factory (so a cluster's <c>HttpClient</c> settings apply to routes and aggregate sources
/// alike), with the gateway's trace propagation in place of YARP's pass-through of the client's headers.
/// </summary>
internal sealed class GatewayHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger, IOptions<GatewayOptions> options) : ForwarderHttpClientFactory(logger)
{
    private readonly TracePropagation _propagation = new(options.Value.PropagateBaggage);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ActivityHeadersPropagator = _propagation;
    }
}
