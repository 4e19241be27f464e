using System.Diagnostics;
using System.Runtime.CompilerServices;
using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Downstream;

/// <summary>
/// The trace propagation every downstream request gets, and the invokers aggregate calls send through. Unless
/// <c>Gateway:Telemetry:HttpClientSpans</c> is on, each cluster has a twin of YARP's invoker (same settings, its own
/// connections) built without a context propagator: .NET then puts no <c>DiagnosticsHandler</c> in its chain, so an
/// aggregate call makes no <c>System.Net.Http</c> span (the source's or attempt's span says what it would), and
/// <see cref="Inject"/> writes the <c>traceparent</c> of the gateway's own span instead. Pass-through routes keep
/// YARP's invoker and its spans.
/// </summary>
internal sealed class CallTransports(IOptions<GatewayOptions> options)
{
    private static readonly DistributedContextPropagator.PropagatorSetterCallback SetHeader =
        static (carrier, name, value) => ((HttpRequestMessage)carrier!).Headers.TryAddWithoutValidation(name, value);

    private readonly ConditionalWeakTable<HttpMessageInvoker, HttpMessageInvoker> _untraced = new();

    /// <summary>The gateway's trace propagation (see <see cref="TracePropagation"/>).</summary>
    public TracePropagation Propagation { get; } = new(options.Value.PropagateBaggage);

    /// <summary>Whether aggregate calls get invokers of their own, without HttpClient spans.</summary>
    public bool Untraced { get; } = !options.Value.Telemetry.HttpClientSpans;

    public bool HasTwin(HttpMessageInvoker cluster) => _untraced.TryGetValue(cluster, out _);

    public void AddTwin(HttpMessageInvoker cluster, HttpMessageInvoker untraced) => _untraced.AddOrUpdate(cluster, untraced);

    /// <summary>The invoker an aggregate call to a cluster uses: the untraced twin of YARP's, when there is one.</summary>
    public HttpMessageInvoker For(HttpMessageInvoker cluster, out bool untraced)
    {
        untraced = _untraced.TryGetValue(cluster, out var twin);
        return untraced ? twin! : cluster;
    }

    /// <summary>What the <c>DiagnosticsHandler</c> would have written: the current span's context (the attempt's or the source's).</summary>
    public void Inject(HttpRequestMessage request) => Propagation.Inject(Activity.Current, request, SetHeader);
}
