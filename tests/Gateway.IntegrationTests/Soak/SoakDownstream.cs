using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.IntegrationTests.Soak;

/// <summary>
/// The soak's downstream: Kestrel on 127.0.0.1 and a free port. Unlike <c>TestDownstream</c> it records nothing (a
/// 10-minute soak sends hundreds of thousands of requests; the test's own memory must stay flat too).
/// </summary>
internal sealed class SoakDownstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SoakDownstream(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>
    /// <c>/body/{k}</c> and <c>/body</c> answer a JSON body of <paramref name="bodyBytes"/> bytes, <c>/fail/{k}</c> 500,
    /// <c>/missing/{k}</c> 404, <c>/slow/{k}</c> holds until the caller gives up (at most 10 s), <c>/items/{**rest}</c> and
    /// <c>/dataset</c> a small JSON.
    /// </summary>
    public static async Task<SoakDownstream> StartAsync(int bodyBytes)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "IntegrationTest" });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var app = builder.Build();

        // {"pad":"xxx…"} padded so that the whole body is bodyBytes long.
        var body = Encoding.UTF8.GetBytes($$"""{"pad":"{{new string('x', bodyBytes - 10)}}"}""");
        var small = """{"ok":true}"""u8.ToArray();
        var failed = """{"error":"soak"}"""u8.ToArray();
        app.MapGet("/body/{k}", (HttpContext c) => WriteAsync(c, body));
        app.MapGet("/body", (HttpContext c) => WriteAsync(c, body));
        app.MapGet("/fail/{k}", (HttpContext c) => WriteAsync(c, failed, StatusCodes.Status500InternalServerError));
        app.MapGet("/missing/{k}", (HttpContext c) => WriteAsync(c, failed, StatusCodes.Status404NotFound));
        app.MapGet("/items/{**rest}", (HttpContext c) => WriteAsync(c, small));
        app.MapGet("/dataset", (HttpContext c) => WriteAsync(c, small));
        app.MapGet("/slow/{**rest}", async (HttpContext c) =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(10), c.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await WriteAsync(c, small);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new SoakDownstream(app, new Uri(address.TrimEnd('/') + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }

    private static async Task WriteAsync(HttpContext context, byte[] body, int status = StatusCodes.Status200OK)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        try
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            // The gateway gave up on the call (its timeout): nothing to answer.
        }
    }
}
