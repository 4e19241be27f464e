using System.Globalization;

namespace Gateway.Demo;

/// <summary>
/// Demo downstream services hosted by the gateway's own process under <c>/demo</c>, so that a fresh clone
/// shows aggregation working with nothing else running. Latencies are simulated; orders fail now and
/// then; recommendations are slow; categories are a cached dataset.
/// </summary>
internal static class DemoDownstreams
{
    /// <summary>
    /// When <c>Demo:Enabled</c> is true, the demo services also run on a loopback port of their own
    /// (<see cref="DemoServer"/>), and the demo clusters point there.
    /// </summary>
    public static IServiceCollection AddDemoDownstreams(this IServiceCollection services, ConfigurationManager configuration)
    {
        if (configuration.GetValue("Demo:Enabled", false))
        {
            // Its socket now, its server when the host starts: the address is known before YARP first loads.
            var demo = new DemoServer();
            configuration.AddInMemoryCollection(DemoSelfAddress.Overrides(configuration, demo.Address));
            services.AddSingleton(sp => demo.WithTime(sp.GetRequiredService<TimeProvider>()));
            services.AddHostedService(sp => sp.GetRequiredService<DemoServer>());
        }

        return services;
    }

    /// <summary>Maps the demo services when <c>Demo:Enabled</c> is true.</summary>
    public static IEndpointRouteBuilder MapDemoDownstreams(this IEndpointRouteBuilder endpoints)
    {
        if (!endpoints.ServiceProvider.GetRequiredService<IConfiguration>().GetValue("Demo:Enabled", false))
        {
            return endpoints;
        }

        // Stand-ins for downstream services: the gateway's own calls to them are not its clients' traffic.
        MapServices(endpoints.MapGroup("/demo").ExcludeFromDescription().DisableRateLimiting(), endpoints.ServiceProvider.GetRequiredService<TimeProvider>());
        return endpoints;
    }

    /// <summary>The demo services themselves, under <paramref name="demo"/>: on the gateway's port and on <see cref="DemoServer"/>'s.</summary>
    internal static void MapServices(IEndpointRouteBuilder demo, TimeProvider time)
    {

        demo.MapGet("/users/{userId}", async (string userId, CancellationToken cancellationToken) =>
        {
            await DelayAsync(time, 20, 60, cancellationToken);
            return Results.Ok(new { id = userId, name = $"User {userId}", email = $"user{userId}@example.test", customerId = $"c-{userId}" });
        });

        demo.MapGet("/customers/{customerId}", async (string customerId, CancellationToken cancellationToken) =>
        {
            await DelayAsync(time, 10, 40, cancellationToken);
            return Results.Ok(new { id = customerId, tier = "gold", since = "2019-04-01", creditLimit = 2500 });
        });

        demo.MapGet("/orders", async (string? user, int? limit, CancellationToken cancellationToken) =>
        {
            await DelayAsync(time, 30, 120, cancellationToken);
            // One call in four fails, as a flaky service does.
            if (Random.Shared.Next(4) == 0)
            {
                return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
            }

            var count = Math.Clamp(limit ?? 3, 0, 20);
            return Results.Ok(Enumerable.Range(1, count).Select(i => new
            {
                id = $"o-{user}-{i}",
                total = Math.Round(19.99m * i, 2),
                placed = new DateOnly(2026, 11, i).ToString("O", CultureInfo.InvariantCulture),
            }));
        });

        demo.MapGet("/recommendations/{userId}", async (string userId, CancellationToken cancellationToken) =>
        {
            // Usually slower than the aggregate lets it be.
            await DelayAsync(time, 200, 1500, cancellationToken);
            return Results.Ok(new[] { new { sku = "book-42", score = 0.93 }, new { sku = "mug-7", score = 0.71 } });
        });

        // Changes slowly: the gateway keeps it as a cached dataset (Gateway:CachedData:categories).
        demo.MapGet("/categories", async (CancellationToken cancellationToken) =>
        {
            await DelayAsync(time, 50, 150, cancellationToken);
            return Results.Ok(new[] { new { id = "books", name = "Books" }, new { id = "music", name = "Music" }, new { id = "games", name = "Games" } });
        });

        demo.MapGet("/products", async (string? category, CancellationToken cancellationToken) =>
        {
            await DelayAsync(time, 10, 40, cancellationToken);
            return Results.Ok(Enumerable.Range(1, 2).Select(i => new { sku = $"{category}-{i}", category, price = 9.99m * i }));
        });
    }

    private static Task DelayAsync(TimeProvider time, int minMs, int maxMs, CancellationToken cancellationToken) =>
        Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(minMs, maxMs)), time, cancellationToken);
}
