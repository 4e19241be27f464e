using Gateway.Aggregation;
using Gateway.Configuration;
using Yarp.ReverseProxy;

namespace Gateway;

/// <summary>
/// <c>--check</c>: reads and validates the configuration exactly as a start would (the same file rule, every check,
/// YARP's validation, the aggregates compiled and mapped), prints the problems or a summary of what would be served,
/// and exits 0 (valid) or 2 (invalid) without starting the server, like <c>krakend check</c> or
/// <c>envoy --mode validate</c>. Meant for CI and for a deploy step before the rollout.
/// </summary>
internal static class CheckCommand
{
    public const string Flag = "--check";

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        try
        {
            // Nothing logged: the problems are the exception's, the summary is written below.
            var app = GatewayHost.Build([.. args.Where(a => a != Flag)], builder => builder.Logging.ClearProviders());
            var file = app.Services.GetServices<IHostedService>().OfType<StartupReport>().Single().Check();
            Summarize(app.Services, file, output);
            return 0;
        }
        catch (GatewayConfigurationException ex)
        {
            error.WriteLine(ex.Message);
            return 2;
        }
    }

    private static void Summarize(IServiceProvider services, string? file, TextWriter output)
    {
        var catalog = services.GetRequiredService<AggregationCatalog>();
        var routes = services.GetRequiredService<IProxyStateLookup>().GetRoutes().Select(r => r.Config).OrderBy(r => r.RouteId, StringComparer.Ordinal).ToList();
        output.WriteLine($"{file ?? "The configuration"} is valid. It would serve:");
        output.WriteLine($"  {catalog.Configured.Count} aggregate(s)");
        foreach (var aggregate in catalog.Configured.OrderBy(a => a.Route, StringComparer.Ordinal))
        {
            var sources = string.Join(", ", aggregate.Sources.Select(s => s.Required ? s.Name + " (required)" : s.Name));
            output.WriteLine($"    {aggregate.Method} {aggregate.Route}  {aggregate.Name}: {sources}");
        }

        output.WriteLine($"  {routes.Count} pass-through route(s)");
        foreach (var route in routes)
        {
            output.WriteLine($"    {(route.Match.Methods is { Count: > 0 } m ? string.Join(",", m) : "*")} {route.Match.Path}  {route.RouteId} -> {route.ClusterId}");
        }

        output.WriteLine($"  {catalog.Downstreams.Count} cluster(s): {string.Join(", ", catalog.Downstreams.All.Select(d => d.Id).Order(StringComparer.Ordinal))}");
    }
}
