using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.Model;

namespace Gateway.Downstream;

/// <summary>
/// The in-flight counters YARP keeps per destination and per cluster, which its <c>LeastRequests</c> and
/// <c>PowerOfTwoChoices</c> policies read. YARP's forwarder counts proxied requests with them; aggregate
/// calls must count in the same counters, or the policies would balance routes and aggregates apart.
/// YARP exposes only a non-atomic setter ("for testing"), so the atomic counter behind it is reached with
/// .NET 10 unsafe accessors; a YARP upgrade that renames it fails the balancing tests, not silently.
/// </summary>
internal static class DestinationCounters
{
    private const string CounterType = "Yarp.ReverseProxy.Utilities.AtomicCounter, Yarp.ReverseProxy";

    public static void Enter(ClusterState cluster, DestinationState destination)
    {
        Increment(DestinationCounter(destination));
        Increment(ClusterCounter(cluster));
    }

    public static void Exit(ClusterState cluster, DestinationState destination)
    {
        Decrement(DestinationCounter(destination));
        Decrement(ClusterCounter(cluster));
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_ConcurrencyCounter")]
    [return: UnsafeAccessorType(CounterType)]
    private static extern object DestinationCounter(DestinationState destination);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_ConcurrencyCounter")]
    [return: UnsafeAccessorType(CounterType)]
    private static extern object ClusterCounter(ClusterState cluster);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "Increment")]
    private static extern int Increment([UnsafeAccessorType(CounterType)] object counter);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "Decrement")]
    private static extern int Decrement([UnsafeAccessorType(CounterType)] object counter);
}
