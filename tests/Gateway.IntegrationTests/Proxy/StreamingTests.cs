using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Gateway.IntegrationTests.Proxy;

/// <summary>
/// 100 MB each way through a pass-through route: the bytes arrive intact and the gateway streams them. The
/// gateway runs in this process, so "streams" is measured as the live managed heap (after a full collection)
/// while the body is halfway through: buffering the body would hold tens of megabytes there. These tests run
/// alone (<see cref="MemoryMeasuringCollection"/>) so that other tests' allocations do not count.
/// </summary>
[Collection(nameof(MemoryMeasuringCollection))]
public sealed class StreamingTests
{
    private const long Size = 100L * 1024 * 1024;
    private const long Step = 8L * 1024 * 1024;
    private const long AllowedGrowth = 40L * 1024 * 1024;

    [Fact]
    public async Task Route_100MegabyteUpload_ReachesTheDownstreamIntactWithoutBeingBuffered()
    {
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapPost("/upload", async (HttpContext c) =>
            {
                c.Features.GetRequiredFeature<IHttpMaxRequestBodySizeFeature>().MaxRequestBodySize = null;
                var (bytes, sha256) = await HashAsync(c.Request.Body, c.RequestAborted);
                await TestDownstream.WriteJsonAsync(c, $$"""{"bytes":{{bytes}},"sha256":"{{sha256}}"}""");
            }));
        await using var gateway = await TestGateway.StartAsync(FilesRoute(downstream));
        await UploadAsync(gateway, new GeneratedBody(1024, seed: 1)); // connections and code paths in place before the baseline
        var baseline = LiveHeap();
        long peak = 0;
        var arrivedBeforeHalfSent = false;

        using var body = new GeneratedBody(Size, seed: 42, Step, sent =>
        {
            peak = Math.Max(peak, LiveHeap());
            if (sent >= Size / 2 && !arrivedBeforeHalfSent)
            {
                arrivedBeforeHalfSent = downstream.Requests.Count(r => r.Path == "/upload") == 2;
            }
        });
        var answer = await UploadAsync(gateway, body);

        Assert.True(answer.StatusCode == HttpStatusCode.OK, answer.ToString());
        Assert.Equal(Size, answer.Root.GetProperty("bytes").GetInt64());
        Assert.Equal(body.Sha256, answer.Root.GetProperty("sha256").GetString());
        Assert.True(arrivedBeforeHalfSent, "the downstream had not received the request when half of the body had been sent");
        Assert.True(peak - baseline < AllowedGrowth, $"live heap grew by {(peak - baseline) / 1024 / 1024} MiB while 100 MB passed");
    }

    [Fact]
    public async Task Route_100MegabyteDownload_ReachesTheClientIntactWithoutBeingBuffered()
    {
        var produced = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var downstream = await TestDownstream.StartAsync((app, d) =>
            app.MapGet("/download/{size:long}", async (HttpContext c, long size) =>
            {
                using var body = new GeneratedBody(size, seed: 7);
                c.Response.ContentType = "application/octet-stream";
                c.Response.ContentLength = size;
                await body.CopyToAsync(c.Response.Body, 64 * 1024, c.RequestAborted);
                if (size == Size)
                {
                    produced.TrySetResult(body.Sha256);
                }
            }));
        await using var gateway = await TestGateway.StartAsync(FilesRoute(downstream));
        await gateway.GetAsync("/files/download/1024");
        var baseline = LiveHeap();
        long peak = 0;
        bool? downstreamFinishedAtHalf = null;

        using var response = await gateway.Client.GetAsync(new Uri($"/files/download/{Size}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long received = 0;
        var nextStep = Step;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            received += read;
            if (received >= nextStep)
            {
                nextStep += Step;
                peak = Math.Max(peak, LiveHeap());
                if (received >= Size / 2)
                {
                    downstreamFinishedAtHalf ??= downstream.Requests[^1].Finished.IsCompleted;
                }
            }
        }

        Assert.Equal(Size, received);
        Assert.Equal(await produced.Task.WaitAsync(Signal.Patience), Convert.ToHexStringLower(hash.GetCurrentHash()));
        Assert.True(downstreamFinishedAtHalf == false, "the downstream had already sent the whole body when the client had read half of it");
        Assert.True(peak - baseline < AllowedGrowth, $"live heap grew by {(peak - baseline) / 1024 / 1024} MiB while 100 MB passed");
    }

    private static GatewayConfig FilesRoute(TestDownstream downstream) =>
        new GatewayConfig()
            .Cluster("files", downstream.BaseAddress)
            .Route("files", "files", "/files/{**rest}", configure: r =>
            {
                r["Transforms"] = new JsonArray(new JsonObject { ["PathRemovePrefix"] = "/files" });
                // Kestrel refuses request bodies over 30 MB unless the route says otherwise (YARP's per-route override).
                r["MaxRequestBodySize"] = 2 * Size;
            });

    private static async Task<AggregateAnswer> UploadAsync(TestGateway gateway, GeneratedBody body)
    {
        var content = new StreamContent(body, 64 * 1024);
        content.Headers.ContentLength = body.Length;
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/files/upload", UriKind.Relative)) { Content = content };
        return await gateway.SendAsync(request);
    }

    private static async Task<(long Bytes, string Sha256)> HashAsync(Stream body, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            total += read;
        }

        return (total, Convert.ToHexStringLower(hash.GetCurrentHash()));
    }

    // What is still reachable: garbage from streaming does not count, a buffered body would.
    private static long LiveHeap() => GC.GetTotalMemory(forceFullCollection: true);
}

/// <summary>Tests that measure the process's memory run on their own, not next to other tests.</summary>
[CollectionDefinition(nameof(MemoryMeasuringCollection), DisableParallelization = true)]
public sealed class MemoryMeasuringCollection;
