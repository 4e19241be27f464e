using System.Diagnostics;
using System.Text;

namespace Gateway.Downstream;

/// <summary>
/// The trace context that goes downstream, on aggregate calls and proxied requests alike: the gateway's own
/// span as <c>traceparent</c>, nothing of the client's <c>tracestate</c>, and of the client's <c>baggage</c>
/// only the keys in <c>Gateway:PropagateBaggage</c>. .NET's default propagator would forward the client's
/// baggage (which ASP.NET Core copies onto the request's activity) to every downstream.
/// </summary>
internal sealed class TracePropagation(IReadOnlyCollection<string> allowedBaggage) : DistributedContextPropagator
{
    /// <summary>Headers only the gateway writes; the client's copies are removed from proxied requests.</summary>
    public static readonly string[] Headers = ["traceparent", "tracestate", "baggage", "Request-Id", "Correlation-Context"];

    private static readonly DistributedContextPropagator Default = CreateDefaultPropagator();

    private readonly HashSet<string> _allowedBaggage = new(allowedBaggage, StringComparer.Ordinal);

    public override IReadOnlyCollection<string> Fields => Headers;

    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter)
    {
        if (carrier is HttpRequestMessage message)
        {
            foreach (var header in Headers)
            {
                message.Headers.Remove(header);
            }
        }

        if (activity is null || setter is null || activity.Id is not { } id)
        {
            return;
        }

        setter(carrier, activity.IdFormat == ActivityIdFormat.W3C ? "traceparent" : "Request-Id", id);
        if (_allowedBaggage.Count == 0)
        {
            return;
        }

        StringBuilder? baggage = null;
        foreach (var (key, value) in activity.Baggage)
        {
            if (_allowedBaggage.Contains(key))
            {
                (baggage ??= new StringBuilder()).Append(baggage.Length == 0 ? "" : ",")
                    .Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value ?? ""));
            }
        }

        if (baggage is not null)
        {
            setter(carrier, "baggage", baggage.ToString());
        }
    }

    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState) =>
        Default.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter) =>
        Default.ExtractBaggage(carrier, getter);
}
