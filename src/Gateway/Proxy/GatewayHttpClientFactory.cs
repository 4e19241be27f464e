using Gateway.Downstream;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Proxy;

/// <summary>
/// YARP's client factory (so a cluster's <c>HttpClient</c> settings apply to routes and aggregate sources
/// alike), with the gateway's trace propagation in place of YARP's pass-through of the client's headers.
/// </summary>
internal sealed class GatewayHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger, IConfiguration configuration) : ForwarderHttpClientFactory(logger)
{
    private readonly TracePropagation _propagation = new(configuration.GetSection("Gateway:PropagateBaggage").Get<string[]>() ?? []);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ActivityHeadersPropagator = _propagation;
    }
}
