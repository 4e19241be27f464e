using System.Net;
using Gateway.IntegrationTests.Infrastructure;
using Gateway.IntegrationTests.Proxy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Gateway.IntegrationTests.Caching;

/// <summary>
/// Distinct keys through the real gateway with the response cache on and <c>Gateway:Cache:MaxBytes</c> small: what
/// the cache keeps stays within MaxBytes, and nothing else keeps an entry per key seen. FusionCache's default
/// locker kept a semaphore per distinct key for 5 minutes (about 600 bytes each, outside MaxBytes). The gateway
/// runs in this process: "keeps" is the live managed heap after a full collection, in a test that runs alone.
/// </summary>
[Collection(nameof(MemoryMeasuringCollection))]
public sealed class ResponseCacheMemoryTests(ITestOutputHelper output)
{
    private const int Keys = 20_000;

    [Fact]
    public async Task DistinctKeys_20000AnswersAnd404s_LiveHeapDoesNotGrowPerKey()
    {
        await using var items = await QuietDownstream.StartAsync();
        var config = new GatewayConfig()
            .Cluster("items", items.BaseAddress)
            .CacheMaxBytes(16 * 1024)
            .Aggregate("agg", "/agg/{id}", s => s.CachedCall("item", "items", "/items/{id}", TimeSpan.FromMinutes(5)));
        await using var gateway = await QuietGateway.StartAsync(config);
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 8 }) { BaseAddress = gateway.BaseAddress };

        // Connections, code paths and the cache's own bound filled before the baseline.
        await RunAsync(client, "warm", 2_000);
        var baseline = LiveHeap();

        await RunAsync(client, "key", Keys);
        var grown = LiveHeap() - baseline;
        output.WriteLine($"live heap: {baseline / 1024} KiB before, grown by {grown / 1024} KiB after {Keys} distinct keys");

        // 20,000 keys at ~600 bytes each would be ~12 MB; 4 MB leaves room for the noise of a test process.
        Assert.True(grown < 4L * 1024 * 1024, $"live heap grew by {grown / 1024} KiB over {Keys} distinct keys (MaxBytes 16 KiB)");
    }

    // Every fourth id is a 404 (passed through unstored): failing and unknown keys cost the same as answered ones.
    private static async Task RunAsync(HttpClient client, string prefix, int count)
    {
        var next = -1;
        var workers = Enumerable.Range(0, 8).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                using var response = await client.GetAsync(new Uri($"/agg/{prefix}{i}{(i % 4 == 0 ? "-missing" : "")}", UriKind.Relative));
                Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadGateway or HttpStatusCode.NotFound, $"{prefix}{i}: {(int)response.StatusCode}");
                await response.Content.ReadAsByteArrayAsync();
            }
        });
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(2));
    }

    private static long LiveHeap() => GC.GetTotalMemory(forceFullCollection: true);

    /// <summary>The real gateway without TestGateway's record of every exchange (which would count here).</summary>
    private sealed class QuietGateway : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly string _configPath;

        private QuietGateway(WebApplication app, string configPath, Uri address)
        {
            _app = app;
            _configPath = configPath;
            BaseAddress = address;
        }

        public Uri BaseAddress { get; }

        public static async Task<QuietGateway> StartAsync(GatewayConfig config)
        {
            var path = Path.Combine(Path.GetTempPath(), $"gateway-it-{Guid.NewGuid():N}.json");
            await File.WriteAllTextAsync(path, config.ToJson());
            var app = GatewayHost.Build(["--config", path, "--urls", "http://127.0.0.1:0"], builder => builder.Logging.ClearProviders());
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
            return new QuietGateway(app, path, new Uri(address.TrimEnd('/') + "/"));
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            File.Delete(_configPath);
        }
    }

    /// <summary>A real Kestrel downstream that records nothing (TestDownstream keeps every request, which would count here).</summary>
    private sealed class QuietDownstream : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private QuietDownstream(WebApplication app, Uri address)
        {
            _app = app;
            BaseAddress = address;
        }

        public Uri BaseAddress { get; }

        public static async Task<QuietDownstream> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "IntegrationTest" });
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            app.MapGet("/items/{id}", (string id, HttpContext c) => id.EndsWith("-missing", StringComparison.Ordinal)
                ? TestDownstream.WriteJsonAsync(c, "{}", StatusCodes.Status404NotFound)
                : TestDownstream.WriteJsonAsync(c, $$"""{"id":"{{id}}"}"""));
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
            return new QuietDownstream(app, new Uri(address.TrimEnd('/') + "/"));
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
