// Fake downstream for the load benchmark. Kept deliberately cheap so that the
// measured CPU is spent in the gateway / baseline, not here:
//   GET /delay/{ms} -> waits ms milliseconds (0 = no timer at all), then writes a
//                      fixed ~600-byte JSON record serialized once at start-up.
//   GET /hang       -> never answers; returns only when the caller gives up.
using System.Text.Json;

// Content root = the app's own folder, so running `dotnet <dll>` from the repo root
// does not pick up the gateway's appsettings.json from the current directory.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});

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

await app.RunAsync().ConfigureAwait(false);

internal static class Payload
{
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
