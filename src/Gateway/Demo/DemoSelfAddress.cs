namespace Gateway.Demo;

/// <summary>
/// Points the demo clusters (those with <c>Metadata:DemoSelf</c> = <c>true</c>) at the address the demo services
/// actually listen on (<see cref="DemoServer"/>'s loopback port), whatever <c>--urls</c> says: configuration keys of a
/// source added last, before the app is built, so that YARP's first load already has them (one
/// "Loading proxy data from config." line at start, no reload).
/// </summary>
internal static class DemoSelfAddress
{
    public const string MetadataKey = "DemoSelf";

    /// <summary>The destination addresses of the demo clusters, with <paramref name="self"/>'s scheme, host and port.</summary>
    public static Dictionary<string, string?> Overrides(IConfiguration configuration, Uri self)
    {
        var addresses = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var cluster in configuration.GetSection("ReverseProxy:Clusters").GetChildren())
        {
            if (!bool.TryParse(cluster[$"Metadata:{MetadataKey}"], out var on) || !on)
            {
                continue;
            }

            foreach (var destination in cluster.GetSection("Destinations").GetChildren())
            {
                if (Uri.TryCreate(destination["Address"], UriKind.Absolute, out var address))
                {
                    addresses[$"{destination.Path}:Address"] = new UriBuilder(address) { Scheme = self.Scheme, Host = self.Host, Port = self.Port }.Uri.ToString();
                }
            }
        }

        return addresses;
    }
}
