using System.ComponentModel;
using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway.Limits;

/// <summary>
/// Kestrel's limits, read from Kestrel's own section <c>Kestrel:Limits</c> (every <see cref="KestrelServerLimits"/>
/// property). The gateway pins the defaults of the keys below, so that they do not move with a Kestrel release,
/// and refuses a value of them that Kestrel would fail on, naming the key. No <c>Server</c> header, ever.
/// </summary>
internal static class KestrelLimits
{
    public const string Section = "Kestrel:Limits";

    /// <summary>The pinned defaults (Kestrel's own in .NET 10), by key under <c>Kestrel:Limits</c>.</summary>
    public static readonly IReadOnlyList<(string Key, Type Type, Action<KestrelServerLimits> Apply)> Defaults =
    [
        ("MaxRequestHeadersTotalSize", typeof(int), l => l.MaxRequestHeadersTotalSize = 32 * 1024),
        ("MaxRequestHeaderCount", typeof(int), l => l.MaxRequestHeaderCount = 100),
        ("MaxRequestLineSize", typeof(int), l => l.MaxRequestLineSize = 8 * 1024),
        ("MaxRequestBodySize", typeof(long), l => l.MaxRequestBodySize = 30_000_000),
        ("RequestHeadersTimeout", typeof(TimeSpan), l => l.RequestHeadersTimeout = TimeSpan.FromSeconds(30)),
        ("KeepAliveTimeout", typeof(TimeSpan), l => l.KeepAliveTimeout = TimeSpan.FromSeconds(130)),
        ("MinRequestBodyDataRate", typeof(MinDataRate), l => l.MinRequestBodyDataRate = new MinDataRate(240, TimeSpan.FromSeconds(5))),
        ("MinResponseDataRate", typeof(MinDataRate), l => l.MinResponseDataRate = new MinDataRate(240, TimeSpan.FromSeconds(5))),
    ];

    /// <summary>Refuses values of the pinned keys that do not convert or are not positive, and Go-style durations Kestrel cannot read.</summary>
    public static void Check(IConfiguration configuration, List<string> errors)
    {
        var section = configuration.GetSection(Section);
        foreach (var (key, type, _) in Defaults)
        {
            var value = section.GetSection(key);
            if (value.Value is not { } text || type == typeof(MinDataRate))
            {
                continue;
            }

            if (type == typeof(TimeSpan))
            {
                // Kestrel reads TimeSpan.Parse's form only: "30s" would fail at start, "30" would be thirty days.
                if (text.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var duration) && duration > TimeSpan.Zero)
                {
                    continue;
                }

                errors.Add($"{value.Path}: '{text}' is not a positive duration in Kestrel's form, e.g. \"00:00:30\"");
                continue;
            }

            try
            {
                var number = Convert.ToDecimal(TypeDescriptor.GetConverter(type).ConvertFromString(null, CultureInfo.InvariantCulture, text), CultureInfo.InvariantCulture);
                if (number < 1)
                {
                    errors.Add($"{value.Path}: must be at least 1 (was {text})");
                }
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException or NotSupportedException)
            {
                errors.Add($"{value.Path}: '{text}' is not a valid {type.Name}");
            }
        }
    }

    /// <summary>Sets the pinned defaults, then binds <c>Kestrel:Limits</c> over them; turns the <c>Server</c> header off.</summary>
    public static void Apply(KestrelServerOptions options, IConfiguration configuration)
    {
        options.AddServerHeader = false;
        foreach (var (_, _, apply) in Defaults)
        {
            apply(options.Limits);
        }

        // The host does not bind this section by itself (only endpoints and certificates under Kestrel).
        configuration.GetSection(Section).Bind(options.Limits);
    }
}
