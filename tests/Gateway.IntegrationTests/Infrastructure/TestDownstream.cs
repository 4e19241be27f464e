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

namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>
/// A real Kestrel service on 127.0.0.1 and a free port, with endpoints the test maps. It records every
/// request it receives (raw target, headers, arrival order, whether the caller aborted it), whatever path.
/// </summary>
public sealed class TestDownstream : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly List<ReceivedRequest> _requests = [];
    private readonly List<(Func<ReceivedRequest, bool> Match, TaskCompletionSource<ReceivedRequest> Waiter)> _waiters = [];
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;

    private TestDownstream()
    {
    }

    /// <summary>Base address, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public int Port => BaseAddress.Port;

    /// <summary>Cancelled when the downstream is being disposed: endpoints that hold a request give up.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Every request received so far, in arrival order.</summary>
    public IReadOnlyList<ReceivedRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Starts a downstream whose endpoints <paramref name="map"/> defines.</summary>
    public static async Task<TestDownstream> StartAsync(Action<WebApplication, TestDownstream> map)
    {
        var downstream = new TestDownstream();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "IntegrationTest" });
        builder.Logging.ClearProviders();
        // An explicit endpoint: whatever "Urls" a settings file in the working folder holds is ignored.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var app = builder.Build();
        app.Use(downstream.RecordAsync);
        map(app, downstream);
        await app.StartAsync();
        downstream._app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        downstream.BaseAddress = new Uri(address.TrimEnd('/') + "/");
        return downstream;
    }

    /// <summary>Requests whose decoded path starts with <paramref name="pathPrefix"/>.</summary>
    public IReadOnlyList<ReceivedRequest> RequestsTo(string pathPrefix) =>
        [.. Requests.Where(r => r.Path.StartsWith(pathPrefix, StringComparison.Ordinal))];

    /// <summary>The first request (already received or still to come) matching <paramref name="match"/>; bounded wait.</summary>
    public Task<ReceivedRequest> WaitForRequestAsync(Func<ReceivedRequest, bool> match, TimeSpan? timeout = null)
    {
        lock (_lock)
        {
            var found = _requests.FirstOrDefault(match);
            if (found is not null)
            {
                return Task.FromResult(found);
            }

            var waiter = new TaskCompletionSource<ReceivedRequest>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, waiter));
            return waiter.Task.WaitAsync(timeout ?? Signal.Patience);
        }
    }

    /// <summary>The first request to a path starting with <paramref name="pathPrefix"/>; bounded wait.</summary>
    public Task<ReceivedRequest> WaitForRequestAsync(string pathPrefix, TimeSpan? timeout = null) =>
        WaitForRequestAsync(r => r.Path.StartsWith(pathPrefix, StringComparison.Ordinal), timeout);

    /// <summary>The record of the request <paramref name="context"/> belongs to.</summary>
    public static ReceivedRequest Current(HttpContext context) => (ReceivedRequest)context.Items[typeof(ReceivedRequest)]!;

    /// <summary>Answers with <paramref name="json"/> exactly as given (Content-Length set).</summary>
    public static Task WriteJsonAsync(HttpContext context, string json, int statusCode = StatusCodes.Status200OK) =>
        WriteBytesAsync(context, Encoding.UTF8.GetBytes(json), "application/json", statusCode);

    public static async Task WriteBytesAsync(HttpContext context, byte[] body, string contentType, int statusCode = StatusCodes.Status200OK)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>
    /// Holds the request until <paramref name="release"/> is set, the caller aborts, the downstream stops,
    /// or <paramref name="limit"/> (default 30 s) passes. True when released.
    /// </summary>
    public async Task<bool> HoldAsync(HttpContext context, Signal? release = null, TimeSpan? limit = null)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        var wait = release?.Task ?? Task.Delay(Timeout.Infinite, linked.Token);
        try
        {
            await wait.WaitAsync(limit ?? TimeSpan.FromSeconds(30), linked.Token);
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// An endpoint that holds each request (<see cref="HoldAsync"/>: until <paramref name="release"/> is set, or
    /// <paramref name="limit"/> passes) and then answers <paramref name="json"/>.
    /// </summary>
    public RequestDelegate HeldJson(Signal? release, string json = "{}", TimeSpan? limit = null) => async context =>
    {
        await HoldAsync(context, release, limit);
        await WriteJsonAsync(context, json);
    };

    /// <summary>Never answers: holds the request until the caller aborts it, the downstream stops, or 30 s pass.</summary>
    public async Task HangAsync(HttpContext context) => await HoldAsync(context);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_app is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(timeout.Token);
            await _app.DisposeAsync();
        }

        lock (_lock)
        {
            foreach (var (_, waiter) in _waiters)
            {
                waiter.TrySetCanceled();
            }
        }

        _stopping.Dispose();
    }

    private async Task RecordAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        var received = new ReceivedRequest
        {
            Method = request.Method,
            RawTarget = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget,
            Path = request.PathBase.Add(request.Path).Value ?? "",
            Query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal),
            Headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            ArrivedAt = EventClock.Next(),
        };
        context.Items[typeof(ReceivedRequest)] = received;
        using var registration = context.RequestAborted.Register(received.MarkAborted);
        Add(received);
        try
        {
            await next(context);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away while the endpoint wrote: that is what some tests provoke.
        }
        finally
        {
            if (context.RequestAborted.IsCancellationRequested)
            {
                received.MarkAborted();
            }

            received.MarkFinished();
        }
    }

    private void Add(ReceivedRequest received)
    {
        List<TaskCompletionSource<ReceivedRequest>> matched = [];
        lock (_lock)
        {
            _requests.Add(received);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(received))
                {
                    matched.Add(_waiters[i].Waiter);
                    _waiters.RemoveAt(i);
                }
            }
        }

        foreach (var waiter in matched)
        {
            waiter.TrySetResult(received);
        }
    }
}
