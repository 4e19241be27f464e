// Fake downstream for the load benchmark. Kept deliberately cheap so that the
// measured CPU is spent in the gateway / baseline, not here:
//   GET /delay/{ms} -> waits ms milliseconds (0 = no timer at all), then writes a
//                      fixed ~600-byte JSON record serialized once at start-up.
//   GET /hang       -> never answers; returns only when the caller gives up.
//   POST /v1/traces, /v1/metrics, /v1/logs
//                   -> an OTLP/HTTP sink (the telemetry scenario): reads the body, drops it, answers 200;
//                      GET /v1/received says how many exports of each signal arrived, as JSON.
//   GET /bytes/{n}  -> a JSON object of exactly n bytes (64 to 1 MiB; {"size":n,"fill":"xx..."}), built
//                      once per n; the query string is ignored, so every ?k= of the response-cache
//                      scenario gets the same body under another key.
//
// Usage: dotnet Gateway.Benchmarks.Downstream.dll --urls http://127.0.0.1:PORT
//        or     dotnet Gateway.Benchmarks.Downstream.dll --Port PORT --H2cPort PORT2
// The second form adds an endpoint that speaks only HTTP/2 over cleartext (h2c with prior knowledge,
// no HTTP/1.1 upgrade): a client reaches it only with HTTP/2 requests (RequestVersionExact).
// Kestrel ignores --urls once endpoints are set in code, so both ports are given explicitly then.
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;

// Content root = the app's own folder, so running `dotnet <dll>` from the repo root
// does not pick up the gateway's appsettings.json from the current directory.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});

var port = builder.Configuration.GetValue<int?>("Port");
var h2cPort = builder.Configuration.GetValue<int?>("H2cPort");
if (h2cPort is not null && port is null)
{
    Console.Error.WriteLine("--H2cPort needs --Port too (Kestrel ignores --urls once endpoints are set in code).");
    return 2;
}

if (port is not null)
{
    builder.WebHost.ConfigureKestrel(kestrel =>
    {
        kestrel.Listen(IPAddress.Loopback, port.Value, listen => listen.Protocols = HttpProtocols.Http1);
        if (h2cPort is not null)
        {
            kestrel.Listen(IPAddress.Loopback, h2cPort.Value, listen => listen.Protocols = HttpProtocols.Http2);
        }
    });
}

var app = builder.Build();

var payload = Payload.Create();
var payloadLength = payload.Length;

app.MapGet("/delay/{ms:int}", async (HttpContext context, int ms) =>
{
    if (ms > 0)
    {
        await Task.Delay(ms, context.RequestAborted).ConfigureAwait(false);
    }

    var response = context.Response;
    response.StatusCode = StatusCodes.Status200OK;
    response.ContentType = "application/json";
    response.ContentLength = payloadLength;
    await response.Body.WriteAsync(payload, context.RequestAborted).ConfigureAwait(false);
});

var sizedPayloads = new ConcurrentDictionary<int, byte[]>();
app.MapGet("/bytes/{n:int}", async (HttpContext context, int n) =>
{
    var response = context.Response;
    if (n < Payload.MinSized || n > Payload.MaxSized)
    {
        response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }

    var body = sizedPayloads.GetOrAdd(n, Payload.Sized);
    response.StatusCode = StatusCodes.Status200OK;
    response.ContentType = "application/json";
    response.ContentLength = body.Length;
    await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
});

app.MapGet("/hang", async (HttpContext context) =>
{
    try
    {
        await Task.Delay(Timeout.Infinite, context.RequestAborted).ConfigureAwait(false);
    }
    catch (OperationCanceledException)
    {
        // The caller timed out and dropped the request: that is the whole point.
    }
});

var otlpExports = new long[3];
string[] otlpSignals = ["traces", "metrics", "logs"];
for (var i = 0; i < otlpSignals.Length; i++)
{
    var signal = i;
    app.MapPost($"/v1/{otlpSignals[i]}", async (HttpContext context) =>
    {
        await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted).ConfigureAwait(false);
        Interlocked.Increment(ref otlpExports[signal]);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/x-protobuf";
        context.Response.ContentLength = 0;
    });
}

app.MapGet("/v1/received", () => Results.Json(new
{
    traces = Interlocked.Read(ref otlpExports[0]),
    metrics = Interlocked.Read(ref otlpExports[1]),
    logs = Interlocked.Read(ref otlpExports[2]),
}));

await app.RunAsync().ConfigureAwait(false);
return 0;

internal static class Payload
{
    public const int MinSized = 64;
    public const int MaxSized = 1024 * 1024;

    /// <summary>A JSON object of exactly <paramref name="size"/> bytes: <c>{"size":n,"fill":"xx...x"}</c>.</summary>
    public static byte[] Sized(int size)
    {
        var head = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"size\":{size},\"fill\":\""));
        var body = new byte[size];
        head.CopyTo(body, 0);
        body.AsSpan(head.Length, size - head.Length - 2).Fill((byte)'x');
        body[^2] = (byte)'"';
        body[^1] = (byte)'}';
        return body;
    }

    /// <summary>A realistic record (~600 bytes once serialized), serialized once.</summary>
    public static byte[] Create()
    {
        var record = new
        {
            id = "c0a8f1e2-4b7d-4e61-9a3f-2d5b8c7e9f10",
            name = "Ada Lovelace",
            email = "ada.lovelace@example.org",
            createdAt = "2024-03-14T09:26:53Z",
            active = true,
            score = 98.6,
            address = new
            {
                street = "12 St James Square",
                city = "London",
                postcode = "SW1Y 4JH",
                country = "GB",
            },
            items = new[]
            {
                new { sku = "SKU-1001", title = "Analytical Engine", quantity = 1, price = 1299.00 },
                new { sku = "SKU-1002", title = "Punched cards x100", quantity = 3, price = 19.95 },
                new { sku = "SKU-1003", title = "Brass gear set", quantity = 2, price = 74.50 },
                new { sku = "SKU-1004", title = "Notes on Menabrea", quantity = 1, price = 35.00 },
                new { sku = "SKU-1005", title = "Difference table", quantity = 4, price = 12.25 },
            },
        };
        return JsonSerializer.SerializeToUtf8Bytes(record);
    }
}
