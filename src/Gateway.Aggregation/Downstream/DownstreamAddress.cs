using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.Model;

namespace Gateway.Downstream;

/// <summary>Builds the request URI of a call for a destination the load balancer picked.</summary>
internal interface IDownstreamAddress
{
    Uri GetUri(DestinationModel destination);
}

/// <summary>Addresses of a path already encoded segment by segment, appended to a destination's address.</summary>
internal static class DownstreamAddress
{
    // Canonicalization could only undo the encoding (e.g. %2E%2E).
    private static readonly UriCreationOptions Verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    /// <summary>A path used once (rendered from a request's values).</summary>
    public static IDownstreamAddress Rendered(string path) => new RenderedAddress(path);

    /// <summary>A path that never changes: its URI is built once per destination.</summary>
    public static IDownstreamAddress Fixed(string path) => new FixedAddress(path);

    private static Uri CreateUri(DestinationModel destination, string path) => new(destination.Config.Address.TrimEnd('/') + path, in Verbatim);

    private sealed class RenderedAddress(string path) : IDownstreamAddress
    {
        public Uri GetUri(DestinationModel destination) => CreateUri(destination, path);
    }

    // Destinations come and go with YARP's configuration: the URI is kept per destination model, weakly.
    private sealed class FixedAddress(string path) : IDownstreamAddress
    {
        private readonly ConditionalWeakTable<DestinationModel, Uri> _uris = [];

        public Uri GetUri(DestinationModel destination) =>
            _uris.TryGetValue(destination, out var uri) ? uri : _uris.GetValue(destination, d => CreateUri(d, path));
    }
}
