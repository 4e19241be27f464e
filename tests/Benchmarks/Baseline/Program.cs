// Baseline for the load benchmark: the plain aggregator a .NET team would write by hand
// instead of using the gateway, done decently ("seed-style basics"):
//   - Minimal API, IHttpClientFactory with one named client per logical downstream (a, b, c);
//   - per call a timeout (linked CancellationTokenSource + CancelAfter) and a SemaphoreSlim
//     per downstream capping concurrency;
//   - Task.WhenAll over the calls, each response parsed into a JsonNode;
//   - failures and timeouts become entries in "errors" (partial result, still 200).
//
// Usage: dotnet Gateway.Benchmarks.Baseline.dll --Downstream http://127.0.0.1:PORT --urls http://127.0.0.1:PORT2
//        then GET /agg/fast, /agg/staggered or /agg/hang.
using Gateway.Benchmarks.Baseline;

// Content root = the app's own folder, so running `dotnet <dll>` from the repo root
// does not pick up the gateway's appsettings.json from the current directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});

var downstream = builder.Configuration["Downstream"];
if (!Uri.TryCreate(downstream, UriKind.Absolute, out var downstreamUri))
{
    Console.Error.WriteLine("Missing or invalid --Downstream http://host:port (the address of the downstream service).");
    return 2;
}

foreach (var name in Scenarios.DownstreamNames)
{
    builder.Services.AddHttpClient(name, client => client.BaseAddress = downstreamUri);
}

builder.Services.AddSingleton<Aggregator>();

var app = builder.Build();

app.MapGet("/agg/{scenario}", async (string scenario, Aggregator aggregator, CancellationToken cancellationToken) =>
    Scenarios.All.TryGetValue(scenario, out var calls)
        ? Results.Json(await aggregator.AggregateAsync(calls, cancellationToken).ConfigureAwait(false))
        : Results.NotFound());

await app.RunAsync().ConfigureAwait(false);
return 0;
