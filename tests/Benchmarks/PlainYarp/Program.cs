// Plain YARP host for the passthrough scenario of the load benchmark: the routes and clusters of the
// ReverseProxy section, forwarded by YARP, with no middleware or service of our own.
//
// Usage: dotnet Gateway.Benchmarks.PlainYarp.dll --config /path/gateway.bench.json --urls http://127.0.0.1:PORT
// --config names the same file the gateway is given, so both proxy the same route to the same cluster;
// only its ReverseProxy section is read here.

// Content root = the app's own folder, so running `dotnet <dll>` from the repo root
// does not pick up the gateway's appsettings.json from the current directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});

if (builder.Configuration["config"] is { } config)
{
    builder.Configuration.AddJsonFile(Path.GetFullPath(config), optional: false, reloadOnChange: false);
}

builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));

var app = builder.Build();
app.MapReverseProxy();
await app.RunAsync().ConfigureAwait(false);
