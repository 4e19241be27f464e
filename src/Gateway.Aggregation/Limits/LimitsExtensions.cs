using Gateway.Model;
using Gateway.Telemetry;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Limits;

internal static class LimitsExtensions
{
    /// <summary>
    /// Registers the inbound limits from the validated configuration: trusted proxies (forwarded headers), the
    /// per-client rate limit and the per-aggregate ones (ASP.NET Core's rate limiter), CORS, Kestrel's limits and
    /// no <c>Server</c> header.
    /// </summary>
    public static WebApplicationBuilder AddGatewayLimits(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        builder.WebHost.ConfigureKestrel(kestrel => KestrelLimits.Apply(kestrel, configuration));
        services.AddOptions<KestrelServerOptions>().Configure<InboundLimits>((kestrel, limits) =>
            SendBufferCap.Apply(kestrel, limits.SocketSendBufferBytes));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITransformProvider, BackendHeaderRemoval>());

        services.AddOptions<ForwardedHeadersOptions>().Configure<InboundLimits>((options, limits) =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Only the listed proxies, not the loopback ones ASP.NET Core trusts by default.
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var address in limits.TrustedAddresses)
            {
                options.KnownProxies.Add(address);
            }

            foreach (var network in limits.TrustedNetworks)
            {
                options.KnownIPNetworks.Add(network);
            }

            // Every hop whose sender is trusted is unwrapped, right to left, and the first untrusted address is the
            // client: a chain of trusted load balancers works, and what a client wrote into the header itself
            // (left of the first trusted hop) is never believed.
            options.ForwardLimit = null;
        });

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<InboundLimits, ILoggerFactory, TimeProvider, GatewayMetrics>((options, limits, loggers, clock, metrics) =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            // The aggregates' policies answer for themselves; this is the per-client limit's answer.
            options.OnRejected = LimitRejection.OnRateLimited("per-client", clock, metrics, Logger(loggers));
            if (limits.PerClient is { } perClient)
            {
                options.GlobalLimiter = PerClientLimiter.Create(perClient);
            }
        });

        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<InboundLimits>((options, limits) =>
        {
            if (limits.Cors is { } cors)
            {
                options.AddDefaultPolicy(cors.Policy);
            }
        });
        return builder;
    }

    /// <summary>
    /// The client's address and scheme as the trusted proxies (<c>Gateway:TrustedProxies</c>) report them. First in the
    /// pipeline, before anything reads them (ASP.NET Core's request span takes <c>client.address</c> when it starts).
    /// </summary>
    public static WebApplication UseGatewayForwardedHeaders(this WebApplication app)
    {
        if (app.Services.GetRequiredService<InboundLimits>().HasTrustedProxies)
        {
            app.UseForwardedHeaders();
        }

        return app;
    }

    /// <summary>
    /// Adds the inbound middleware, in this order: CORS, load shedding (<c>MaxConcurrentRequests</c>, 503), rate
    /// limits (429), a declared body over the limit (413). Goes after routing: the limits read the endpoint.
    /// </summary>
    public static WebApplication UseGatewayLimits(this WebApplication app)
    {
        var limits = app.Services.GetRequiredService<InboundLimits>();
        if (limits.Cors is not null)
        {
            app.UseCors();
        }

        if (limits.MaxConcurrentRequests is { } max)
        {
            app.UseMiddleware<LoadShedder>(max);
        }

        app.UseRateLimiter();
        app.UseMiddleware<DeclaredBodyLimit>();
        return app;
    }

    /// <summary>Applies <c>Gateway:Aggregates:{name}:RateLimit</c> to an aggregate's endpoint, when it sets one.</summary>
    internal static TBuilder RequireAggregateRateLimit<TBuilder>(this TBuilder builder, string aggregate, FixedWindowLimit? rateLimit, IServiceProvider services)
        where TBuilder : IEndpointConventionBuilder =>
        rateLimit is { } limit
            ? builder.RequireRateLimiting(new AggregateRateLimitPolicy(aggregate, limit, services.GetRequiredService<TimeProvider>(), services.GetRequiredService<GatewayMetrics>(), Logger(services.GetRequiredService<ILoggerFactory>())))
            : builder;

    /// <summary>Puts an endpoint of the gateway's own under <c>MaxConcurrentRequests</c> like aggregates and routes (see <see cref="GatewayTraffic"/>).</summary>
    internal static TBuilder CountAsGatewayTraffic<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(GatewayTraffic.Marker.Instance);

    // The limits' refusals log under one category, whichever limit refused.
    private static ILogger Logger(ILoggerFactory loggers) => loggers.CreateLogger(typeof(LimitsExtensions).FullName!);
}
