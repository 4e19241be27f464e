namespace Gateway.Logging;

internal static class LoggingExtensions
{
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

        return builder;
    }

    /// <summary>
    /// Settles <c>X-Request-Id</c> (the client's when well-formed, else a new one), echoes it on every answer,
    /// forwards it downstream and puts it in a log scope. Goes first in the pipeline.
    /// </summary>
    public static IApplicationBuilder UseGatewayRequestId(this IApplicationBuilder app) => app.UseMiddleware<RequestIdMiddleware>();
}
