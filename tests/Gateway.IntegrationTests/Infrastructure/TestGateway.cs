using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>
/// The real gateway, built by <see cref="GatewayHost.Build"/> from a configuration file, running in-process
/// on Kestrel at 127.0.0.1 and a free port.
/// </summary>
public sealed class TestGateway : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _configPath;
    private readonly FakeLoggerProvider _log;
    private readonly Lock _lock = new();
    private readonly List<GatewayExchange> _exchanges = [];
    private Task? _stopped;

    private TestGateway(WebApplication app, string configPath, FakeLoggerProvider log)
    {
        _app = app;
        _configPath = configPath;
        _log = log;
    }

    /// <summary>Base address, e.g. <c>http://127.0.0.1:41234/</c>; set once started.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>A client whose base address is the gateway; set once started.</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>The gateway's services (e.g. YARP's <c>IProxyStateLookup</c>, to see what its health checks decided).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>What the gateway logged (Warning and above, per the test configuration).</summary>
    public IReadOnlyList<LogEntry> Log => [.. _log.Collector.GetSnapshot().Select(LogEntry.From)];

    /// <summary>
    /// Starts the gateway on <paramref name="config"/>; <paramref name="configure"/> may map code-first aggregates,
    /// <paramref name="configureBuilder"/> add services (e.g. OpenTelemetry's in-memory exporters).
    /// </summary>
    public static async Task<TestGateway> StartAsync(GatewayConfig config, Action<WebApplication>? configure = null, Action<WebApplicationBuilder>? configureBuilder = null)
    {
        var path = Path.Combine(Path.GetTempPath(), $"gateway-it-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, config.ToJson());
        var log = new FakeLoggerProvider();
        WebApplication? app = null;
        try
        {
            app = GatewayHost.Build(["--config", path, "--urls", "http://127.0.0.1:0"], builder =>
            {
                builder.Logging.ClearProviders();
                builder.Logging.AddProvider(log);
                builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
                configureBuilder?.Invoke(builder);
            });
            configure?.Invoke(app);
            var gateway = new TestGateway(app, path, log);
            app.Use(gateway.TrackAsync);
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
            gateway.BaseAddress = new Uri(address.TrimEnd('/') + "/");
            // No trace context of its own: while a test traces with OpenTelemetry, every HttpClient in the process
            // is instrumented, and its traceparent would replace the one a test wrote.
            gateway.Client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, ActivityHeadersPropagator = null })
            {
                BaseAddress = gateway.BaseAddress,
                Timeout = TimeSpan.FromSeconds(20),
            };
            return gateway;
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            File.Delete(path);
            throw;
        }
    }

    /// <summary>Sends <paramref name="request"/> and reads the answer whole.</summary>
    public async Task<AggregateAnswer> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        using var response = await Client.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return new AggregateAnswer(response, body, stopwatch.Elapsed);
    }

    /// <summary>GETs <paramref name="relativeUri"/> (taken verbatim: it may hold percent-encoded values).</summary>
    public Task<AggregateAnswer> GetAsync(string relativeUri, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(relativeUri, UriKind.Relative));
        return SendAsync(request, cancellationToken);
    }

    /// <summary>The first request to the gateway whose path starts with <paramref name="pathPrefix"/> that has been handled to the end; bounded wait.</summary>
    public async Task<GatewayExchange> WaitForHandledAsync(string pathPrefix, TimeSpan? timeout = null)
    {
        GatewayExchange? exchange;
        lock (_lock)
        {
            exchange = _exchanges.FirstOrDefault(e => e.Path.StartsWith(pathPrefix, StringComparison.Ordinal));
        }

        Assert.True(exchange is not null, $"the gateway has not received a request to {pathPrefix}");
        await exchange.Handled.WaitAsync(timeout ?? Signal.Patience);
        return exchange;
    }

    /// <summary>
    /// Stops the gateway as the host does on SIGTERM; once only. Requests in flight get the drain
    /// (<c>Gateway:Shutdown:DrainTimeout</c>) but at most the test host's shutdown timeout, 2 s.
    /// </summary>
    public Task StopAsync()
    {
        lock (_lock)
        {
            return _stopped ??= StopOnceAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Client?.Dispose();
        await _app.DisposeAsync();
        File.Delete(_configPath);
    }

    private async Task StopOnceAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
    }

    private async Task TrackAsync(HttpContext context, RequestDelegate next)
    {
        var exchange = new GatewayExchange(context.Request.Path.Value ?? "");
        lock (_lock)
        {
            _exchanges.Add(exchange);
        }

        try
        {
            await next(context);
        }
        finally
        {
            exchange.MarkHandled(context.Response.StatusCode, context.RequestAborted.IsCancellationRequested);
        }
    }
}

/// <summary>One request the gateway received; <see cref="Handled"/> completes when its endpoint returned.</summary>
public sealed class GatewayExchange(string path)
{
    private readonly TaskCompletionSource _handled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Path { get; } = path;

    public int StatusCode { get; private set; }

    public bool ClientAborted { get; private set; }

    public Task Handled => _handled.Task;

    internal void MarkHandled(int statusCode, bool aborted)
    {
        StatusCode = statusCode;
        ClientAborted = aborted;
        _handled.TrySetResult();
    }
}
