using Gateway.Configuration;
using Microsoft.AspNetCore.Cors.Infrastructure;

namespace Gateway.Limits;

/// <summary>The validated <c>Gateway:Cors</c> section, turned into ASP.NET Core's default CORS policy.</summary>
internal sealed record GatewayCors(CorsPolicy Policy)
{
    /// <summary>Response headers scripts may read unless <c>ExposedHeaders</c> says otherwise.</summary>
    public static readonly string[] DefaultExposedHeaders = ["X-Aggregate-Complete", "Retry-After", "X-Request-Id"];

    public static readonly TimeSpan DefaultMaxAge = TimeSpan.FromMinutes(10);

    public static GatewayCors? Create(CorsPolicyOptions options, List<string> errors)
    {
        const string Key = "Gateway:Cors";
        if (options.AllowedOrigins.Count == 0)
        {
            foreach (var (name, set) in new[] { ("AllowedMethods", options.AllowedMethods.Count > 0), ("AllowedHeaders", options.AllowedHeaders.Count > 0), ("ExposedHeaders", options.ExposedHeaders.Count > 0), ("AllowCredentials", options.AllowCredentials), ("MaxAge", options.MaxAge is not null) })
            {
                if (set)
                {
                    errors.Add($"{Key}:{name}: has no effect without {Key}:AllowedOrigins (CORS is off)");
                }
            }

            return null;
        }

        var count = errors.Count;
        var builder = new CorsPolicyBuilder();
        var anyOrigin = options.AllowedOrigins.Contains("*");
        if (anyOrigin)
        {
            if (options.AllowedOrigins.Count > 1)
            {
                errors.Add($"{Key}:AllowedOrigins: '*' allows every origin; list nothing else with it");
            }

            if (options.AllowCredentials)
            {
                errors.Add($"{Key}:AllowCredentials: cannot be true with the origin '*' (browsers refuse it; list the origins)");
            }

            builder.AllowAnyOrigin();
        }
        else
        {
            for (var i = 0; i < options.AllowedOrigins.Count; i++)
            {
                var origin = options.AllowedOrigins[i];
                if (!IsOrigin(origin))
                {
                    errors.Add($"{Key}:AllowedOrigins:{i}: '{origin}' is not an origin: scheme, host and optional port, e.g. https://app.example.com (no path, no trailing '/')");
                }
            }

            builder.WithOrigins([.. options.AllowedOrigins]);
        }

        List<string> methods = options.AllowedMethods.Count > 0 ? options.AllowedMethods : ["GET", "HEAD"];
        if (methods.Contains("*"))
        {
            builder.AllowAnyMethod();
        }
        else
        {
            CheckTokens(methods, $"{Key}:AllowedMethods", "an HTTP method", errors);
            builder.WithMethods([.. methods.Select(m => m.Trim().ToUpperInvariant())]);
        }

        if (options.AllowedHeaders.Contains("*"))
        {
            builder.AllowAnyHeader();
        }
        else
        {
            CheckTokens(options.AllowedHeaders, $"{Key}:AllowedHeaders", "a header name", errors);
            builder.WithHeaders([.. options.AllowedHeaders]);
        }

        List<string> exposed = options.ExposedHeaders.Count > 0 ? options.ExposedHeaders : [.. DefaultExposedHeaders];
        CheckTokens(exposed, $"{Key}:ExposedHeaders", "a header name", errors);
        builder.WithExposedHeaders([.. exposed]);

        if (options.AllowCredentials)
        {
            builder.AllowCredentials();
        }

        var maxAge = options.MaxAge ?? DefaultMaxAge;
        if (maxAge < TimeSpan.Zero)
        {
            errors.Add($"{Key}:MaxAge: must not be negative (was {maxAge})");
        }

        builder.SetPreflightMaxAge(maxAge);
        return errors.Count == count ? new GatewayCors(builder.Build()) : null;
    }

    // An origin as a browser sends it: scheme://host[:port], nothing else.
    private static bool IsOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && string.Equals(uri.GetLeftPart(UriPartial.Authority), origin, StringComparison.OrdinalIgnoreCase);

    private static void CheckTokens(List<string> values, string key, string what, List<string> errors)
    {
        for (var i = 0; i < values.Count; i++)
        {
            var value = values[i]?.Trim() ?? "";
            if (value.Length == 0 || value.Any(c => c <= ' ' || c >= 127 || "()<>@,;:\\\"/[]?={}".Contains(c)))
            {
                errors.Add($"{key}:{i}: '{values[i]}' is not {what}");
            }
        }
    }
}
