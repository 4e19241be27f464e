using System.Net;
using Gateway.Configuration;

namespace Gateway.Limits;

/// <summary>
/// The validated inbound side of <see cref="GatewayOptions"/>: trusted proxies, the per-client limit, the
/// concurrency limit and CORS. Built once with the rest of the configuration; every problem names its key.
/// </summary>
internal sealed record InboundLimits
{
    public static readonly InboundLimits None = new();

    /// <summary>Single proxy addresses whose <c>X-Forwarded-For</c> counts.</summary>
    public IReadOnlyList<IPAddress> TrustedAddresses { get; init; } = [];

    /// <summary>Proxy networks whose <c>X-Forwarded-For</c> counts.</summary>
    public IReadOnlyList<IPNetwork> TrustedNetworks { get; init; } = [];

    public bool HasTrustedProxies => TrustedAddresses.Count > 0 || TrustedNetworks.Count > 0;

    public FixedWindowLimit? PerClient { get; init; }

    public int? MaxConcurrentRequests { get; init; }

    /// <summary>The default of <c>Gateway:RateLimiting:SocketSendBufferBytes</c>.</summary>
    public const int DefaultSocketSendBufferBytes = 64 * 1024;

    /// <summary>The send buffer set on each client connection; 0 leaves the operating system's.</summary>
    public int SocketSendBufferBytes { get; init; } = DefaultSocketSendBufferBytes;

    /// <summary>The CORS policy; null when no origin is allowed (no CORS headers at all).</summary>
    public GatewayCors? Cors { get; init; }

    public static InboundLimits Create(GatewayOptions options, List<string> errors)
    {
        var addresses = new List<IPAddress>();
        var networks = new List<IPNetwork>();
        for (var i = 0; i < options.TrustedProxies.Count; i++)
        {
            var text = options.TrustedProxies[i]?.Trim() ?? "";
            if (text.Contains('/', StringComparison.Ordinal))
            {
                // "10.0.0.1/8" is refused, not read as 10.0.0.0/8: its author may have meant a single proxy.
                if (IPNetwork.TryParse(text, out var network) && IPAddress.TryParse(text.AsSpan(0, text.IndexOf('/', StringComparison.Ordinal)), out var written) && written.Equals(network.BaseAddress))
                {
                    networks.Add(network);
                }
                else
                {
                    errors.Add($"Gateway:TrustedProxies:{i}: '{text}' is not a CIDR network such as 10.0.0.0/8 (no bits set past the prefix)");
                }
            }
            else if (IsAddress(text, out var address))
            {
                addresses.Add(address);
            }
            else
            {
                errors.Add($"Gateway:TrustedProxies:{i}: '{text}' is not an IP address or a CIDR network such as 10.0.0.0/8");
            }
        }

        var limits = options.RateLimiting;
        if (limits.MaxConcurrentRequests is < 1)
        {
            errors.Add($"Gateway:RateLimiting:MaxConcurrentRequests: must be at least 1 (was {limits.MaxConcurrentRequests})");
        }

        var sendBuffer = limits.SocketSendBufferBytes ?? DefaultSocketSendBufferBytes;
        if (sendBuffer is not 0 and (< 4096 or > 16 * 1024 * 1024))
        {
            errors.Add($"Gateway:RateLimiting:SocketSendBufferBytes: must be 0 (the operating system's autotuning) or between 4096 and 16777216 bytes (was {sendBuffer})");
        }

        return new InboundLimits
        {
            TrustedAddresses = addresses,
            TrustedNetworks = networks,
            PerClient = FixedWindowLimit.From(limits.PerClient, "Gateway:RateLimiting:PerClient", errors),
            MaxConcurrentRequests = limits.MaxConcurrentRequests,
            SocketSendBufferBytes = sendBuffer,
            Cors = GatewayCors.Create(options.Cors, errors),
        };
    }

    // IPAddress.TryParse also reads "10" or "10.1" as IPv4 addresses; a proxy list wants the full form.
    private static bool IsAddress(string text, out IPAddress address)
    {
        address = IPAddress.None;
        var looksComplete = text.Contains(':', StringComparison.Ordinal) || text.Count(c => c == '.') == 3;
        if (!looksComplete || !IPAddress.TryParse(text, out var parsed))
        {
            return false;
        }

        address = parsed;
        return true;
    }
}
