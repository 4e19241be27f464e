namespace Gateway.Logging;

internal static class LoggingExtensions
{
    /// <summary>YARP's forwarder: two Information lines per proxied request, the first with the destination's full address.</summary>
    internal const string ForwarderCategory = "Yarp.ReverseProxy.Forwarder.HttpForwarder";

    /// <summary>
    /// <c>Gateway:Logging:Json</c> true switches the console to one JSON object per line, with scopes (the request
    /// id, ASP.NET Core's trace and span ids) and UTC timestamps. A value that is not a boolean leaves the plain
    /// format; the start-up check names the key. The plain format shows the scopes too (under each line), so the
    /// request id is in every line written while a request is handled.
    /// </summary>
    public static WebApplicationBuilder AddGatewayLogging(this WebApplicationBuilder builder)
    {
        if (bool.TryParse(builder.Configuration["Gateway:Logging:Json"], out var json) && json)
        {
            builder.Logging.AddJsonConsole(options =>
            {
                options.IncludeScopes = true;
                options.UseUtcTimestamp = true;
                options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
        else
        {
            builder.Logging.AddSimpleConsole(options => options.IncludeScopes = true);
        }

        // YARP's default writes "Proxying to <address>" and "Received HTTP/1.1 response 200" at Information for every
        // proxied request: at a gateway's rate that is most of the log, and it prints the destination's address. Warning
        // unless the configuration names this very category (its rule comes later, so it wins; a broader one, such as
        // "Yarp", does not).
        builder.Services.Configure<LoggerFilterOptions>(options =>
            options.Rules.Insert(0, new LoggerFilterRule(null, ForwarderCategory, LogLevel.Warning, null)));

        return builder;
    }

    /// <summary>
    /// Settles <c>X-Request-Id</c> (the client's when well-formed, else a new one), echoes it on every answer,
    /// forwards it downstream and puts it in a log scope. Goes first in the pipeline.
    /// </summary>
    public static IApplicationBuilder UseGatewayRequestId(this IApplicationBuilder app) => app.UseMiddleware<RequestIdMiddleware>();
}
