using System.Diagnostics;
using Gateway.Downstream;

namespace Gateway.Tests.Downstream;

public sealed class TracePropagationTests
{
    private static Dictionary<string, string> Inject(TracePropagation propagation, Activity activity, HttpRequestMessage request)
    {
        var written = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        propagation.Inject(activity, request, (carrier, name, value) => written[name] = value);
        return written;
    }

    private static Activity ClientActivity()
    {
        // What ASP.NET Core builds from a client's traceparent, tracestate and baggage.
        var activity = new Activity("request");
        activity.SetParentId("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        activity.TraceStateString = "vendor=secret";
        activity.AddBaggage("user", "alice");
        activity.AddBaggage("tenant", "t 1");
        return activity.Start();
    }

    [Fact]
    public void Inject_ClientTraceContext_OnlyTheGatewaysOwnSpanGoesOut()
    {
        using var activity = ClientActivity();
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://d.test/");
        request.Headers.TryAddWithoutValidation("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        request.Headers.TryAddWithoutValidation("baggage", "user=alice");

        var written = Inject(new TracePropagation([]), activity, request);

        Assert.Equal(activity.Id, written["traceparent"]);
        Assert.Contains("0af7651916cd43dd8448eb211c80319c", written["traceparent"], StringComparison.Ordinal);
        Assert.DoesNotContain("b7ad6b7169203331", written["traceparent"], StringComparison.Ordinal);
        Assert.False(written.ContainsKey("tracestate"));
        Assert.False(written.ContainsKey("baggage"));
        Assert.False(request.Headers.Contains("baggage"));
        Assert.False(request.Headers.Contains("traceparent"));
    }

    [Fact]
    public void Inject_AllowListedBaggageKey_OnlyThatKeyGoesOut()
    {
        using var activity = ClientActivity();
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://d.test/");

        var written = Inject(new TracePropagation(["tenant"]), activity, request);

        Assert.Equal("tenant=t%201", written["baggage"]);
    }
}
