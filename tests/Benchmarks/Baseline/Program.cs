// Baseline for the load benchmark: the plain aggregator a .NET team would write by hand
// instead of using the gateway, done decently ("seed-style basics"):
//   - Minimal API, IHttpClientFactory with one named client per logical downstream (a, b, c);
//   - per call a timeout (linked CancellationTokenSource + CancelAfter) and a SemaphoreSlim
//     per downstream capping concurrency;
//   - Task.WhenAll over the calls, each response parsed into a JsonNode;
//   - failures and timeouts become entries in "errors" (partial result, still 200);
//   - /agg/cached: the sources of /agg/fast, each body kept in IMemoryCache for 30 s (cache-aside),
//     parsed into a JsonNode and merged per request.
//
// Usage: dotnet Gateway.Benchmarks.Baseline.dll --Downstream http://127.0.0.1:PORT --urls http://127.0.0.1:PORT2
//               [--DownstreamH2c http://127.0.0.1:PORT3]
//        then GET /agg/fast, /agg/staggered, /agg/hang or /agg/cached; with --DownstreamH2c (an endpoint that speaks
//        only HTTP/2 over cleartext) also /agg/hang_h2c.
using System.Net;
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

Uri? downstreamH2cUri = null;
if (builder.Configuration["DownstreamH2c"] is { } downstreamH2c && !Uri.TryCreate(downstreamH2c, UriKind.Absolute, out downstreamH2cUri))
{
    Console.Error.WriteLine("Invalid --DownstreamH2c http://host:port (the downstream's HTTP/2 cleartext endpoint).");
    return 2;
}

foreach (var name in Scenarios.Http1Clients)
{
    builder.Services.AddHttpClient(name, client => client.BaseAddress = downstreamUri);
}

if (downstreamH2cUri is not null)
{
    foreach (var name in Scenarios.H2cClients)
    {
        builder.Services.AddHttpClient(name, client =>
            {
                client.BaseAddress = downstreamH2cUri;
                client.DefaultRequestVersion = HttpVersion.Version20;
                client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
            })
            // Kestrel allows 100 streams per HTTP/2 connection; open more connections rather than queue
            // behind that limit (YARP's clients do the same).
            .UseSocketsHttpHandler((handler, _) => handler.EnableMultipleHttp2Connections = true);
    }
}

var scenarios = Scenarios.Available(h2c: downstreamH2cUri is not null);

builder.Services.AddSingleton<Aggregator>();
builder.Services.AddMemoryCache();
builder.Services.AddSingleton<CachedAggregator>();

var app = builder.Build();

// A literal segment takes precedence over /agg/{scenario}.
app.MapGet("/agg/cached", async (CachedAggregator aggregator, CancellationToken cancellationToken) =>
    Results.Json(await aggregator.AggregateAsync(Scenarios.Cached, Scenarios.CachedRefreshInterval, cancellationToken).ConfigureAwait(false)));

app.MapGet("/agg/{scenario}", async (string scenario, Aggregator aggregator, CancellationToken cancellationToken) =>
    scenarios.TryGetValue(scenario, out var calls)
        ? Results.Json(await aggregator.AggregateAsync(calls, cancellationToken).ConfigureAwait(false))
        : Results.NotFound());

await app.RunAsync().ConfigureAwait(false);
return 0;
