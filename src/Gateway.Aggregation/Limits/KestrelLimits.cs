using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway.Limits;

/// <summary>
/// Kestrel's limits, read from Kestrel's own section <c>Kestrel:Limits</c> (every <see cref="KestrelServerLimits"/>
/// property). The gateway pins the defaults of the keys below, so that they do not move with a Kestrel release,
/// and refuses any value Kestrel would fail on, naming the key. No <c>Server</c> header, ever.
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
        ("MinResponseDataRate", typeof(MinDataRate), l => l.MinResponseDataRate = new MinDataRate(32 * 1024, TimeSpan.FromSeconds(5))),
    ];

    /// <summary>
    /// Checks every key under <c>Kestrel:Limits</c> (and <c>Http2</c>, <c>Http3</c>, the two data rates) before
    /// Kestrel sees it: a key that is no limit, a value that does not convert, a duration not in Kestrel's form and
    /// a value Kestrel's own setters refuse (<c>MaxRequestHeaderCount: 0</c>), each named by its full key. Kestrel
    /// would otherwise throw while the host is built, with a stack trace.
    /// </summary>
    public static void Check(IConfiguration configuration, List<string> errors)
    {
        var section = configuration.GetSection(Section);
        if (section.Value is { Length: > 0 } && !section.GetChildren().Any())
        {
            errors.Add($"{section.Path}: expected an object of Kestrel's limits, not '{section.Value}'");
            return;
        }

        foreach (var child in section.GetChildren())
        {
            CheckKey(child, typeof(KestrelServerLimits), errors);
        }
    }

    private static void CheckKey(IConfigurationSection value, Type owner, List<string> errors)
    {
        var property = owner.GetProperty(value.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property is null)
        {
            errors.Add($"{value.Path}: unknown setting '{value.Key}' (known: {Known(owner)})");
            return;
        }

        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        if (type == typeof(Http2Limits) || type == typeof(Http3Limits))
        {
            if (value.Value is { Length: > 0 })
            {
                errors.Add($"{value.Path}: expected an object with the settings {Known(type)}, not '{value.Value}'");
                return;
            }

            foreach (var child in value.GetChildren())
            {
                CheckKey(child, type, errors);
            }

            return;
        }

        if (type == typeof(TimeSpan))
        {
            CheckDuration(value, errors);
            return;
        }

        if (type == typeof(MinDataRate))
        {
            CheckRate(value, errors);
            return;
        }

        if (!CheckConverts(value, type, errors))
        {
            return;
        }

        // What is left is for the binder and Kestrel's own setters to decide, on a copy: what would fail at start
        // fails here, with the key.
        var copy = new ConfigurationBuilder().AddInMemoryCollection(value.AsEnumerable()).Build();
        try
        {
            copy.GetSection(Section).Bind(new KestrelServerLimits(), o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TargetInvocationException or ArgumentException)
        {
            errors.Add($"{value.Path}: {Reason(ex, value)}");
        }
    }

    private static void CheckDuration(IConfigurationSection value, List<string> errors)
    {
        // Kestrel reads TimeSpan.Parse's form only: "30s" would fail at start, "30" would be thirty days.
        if (value.Value is not { } text)
        {
            errors.Add($"{value.Path}: expected a duration such as \"00:00:30\", not an object");
        }
        else if (!text.Contains(':', StringComparison.Ordinal) || !TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var duration)
            || (duration <= TimeSpan.Zero && duration != Timeout.InfiniteTimeSpan))
        {
            errors.Add($"{value.Path}: '{text}' is not a positive duration in Kestrel's form, e.g. \"00:00:30\"");
        }
        else
        {
            var copy = new ConfigurationBuilder().AddInMemoryCollection(value.AsEnumerable()).Build();
            try
            {
                copy.GetSection(Section).Bind(new KestrelServerLimits());
            }
            catch (Exception ex) when (ex is InvalidOperationException or TargetInvocationException or ArgumentException)
            {
                errors.Add($"{value.Path}: {Reason(ex, value)}");
            }
        }
    }

    // A data rate is an object of both BytesPerSecond and GracePeriod (Kestrel's constructor takes both), or
    // null (no minimum). The binder cannot set one (the type is immutable and the default instance is kept).
    private static void CheckRate(IConfigurationSection value, List<string> errors)
    {
        if (value.Value is { Length: > 0 })
        {
            errors.Add($"{value.Path}: expected an object with BytesPerSecond and GracePeriod (or null for none), not '{value.Value}'");
            return;
        }

        var valid = true;
        foreach (var child in value.GetChildren())
        {
            if (!child.Key.Equals(nameof(MinDataRate.BytesPerSecond), StringComparison.OrdinalIgnoreCase)
                && !child.Key.Equals(nameof(MinDataRate.GracePeriod), StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{child.Path}: unknown setting '{child.Key}' (known: BytesPerSecond, GracePeriod)");
                valid = false;
            }
        }

        var rate = value.GetSection(nameof(MinDataRate.BytesPerSecond));
        var grace = value.GetSection(nameof(MinDataRate.GracePeriod));
        if (!value.GetChildren().Any())
        {
            return;
        }

        if (grace.Value is null || rate.Value is null)
        {
            errors.Add($"{value.Path}: set both BytesPerSecond and GracePeriod");
            return;
        }

        var before = errors.Count;
        CheckConverts(rate, typeof(double), errors);
        CheckDuration(grace, errors);
        if (!valid || errors.Count > before)
        {
            return;
        }

        try
        {
            _ = ReadRate(value);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            errors.Add($"{value.Path}: {Reason(ex, value)}");
        }
    }

    // Checked before: both keys there and converting, or none (null: no minimum).
    private static MinDataRate? ReadRate(IConfigurationSection value) =>
        value.GetChildren().Any()
            ? new MinDataRate(
                double.Parse(value[nameof(MinDataRate.BytesPerSecond)]!, CultureInfo.InvariantCulture),
                TimeSpan.Parse(value[nameof(MinDataRate.GracePeriod)]!, CultureInfo.InvariantCulture))
            : null;

    private static bool CheckConverts(IConfigurationSection value, Type type, List<string> errors)
    {
        if (value.Value is not { } text)
        {
            if (!value.GetChildren().Any())
            {
                return true;
            }

            errors.Add($"{value.Path}: expected a single {type.Name} value, not an object");
            return false;
        }

        try
        {
            // As the binder converts; an empty value of a nullable limit means none.
            TypeDescriptor.GetConverter(type).ConvertFromString(null, CultureInfo.InvariantCulture, text);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException or NotSupportedException)
        {
            if (text.Length == 0)
            {
                return true;
            }

            errors.Add($"{value.Path}: '{text}' is not a valid {type.Name}");
            return false;
        }
    }

    // Kestrel's setters throw ArgumentOutOfRangeException("Value must be a positive number.") and the like.
    private static string Reason(Exception ex, IConfigurationSection value)
    {
        var innermost = ex;
        while (innermost.InnerException is { } inner)
        {
            innermost = inner;
        }

        var message = innermost.Message;
        if (innermost is ArgumentException { ParamName: { } name })
        {
            message = message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal);
        }

        message = message.Split('\n')[0].Trim();
        return value.Value is { } written ? $"'{written}' is refused by Kestrel: {message}" : $"refused by Kestrel: {message}";
    }

    private static string Known(Type type) =>
        string.Join(", ", type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite || p.PropertyType == typeof(Http2Limits) || p.PropertyType == typeof(Http3Limits)).Select(p => p.Name));

    /// <summary>Sets the pinned defaults, then binds <c>Kestrel:Limits</c> over them; turns the <c>Server</c> header off.</summary>
    public static void Apply(KestrelServerOptions options, IConfiguration configuration)
    {
        options.AddServerHeader = false;
        foreach (var (_, _, apply) in Defaults)
        {
            apply(options.Limits);
        }

        // The host does not bind this section by itself (only endpoints and certificates under Kestrel). A bad
        // value would throw here, while the host is built; the configuration check reports it with the rest
        // (exit code 2, every bad key named), so it is left out and the defaults stay until then.
        var errors = new List<string>();
        Check(configuration, errors);
        if (errors.Count > 0)
        {
            return;
        }

        var section = configuration.GetSection(Section);
        section.Bind(options.Limits);
        foreach (var rate in section.GetChildren())
        {
            if (rate.Key.Equals(nameof(KestrelServerLimits.MinResponseDataRate), StringComparison.OrdinalIgnoreCase))
            {
                options.Limits.MinResponseDataRate = ReadRate(rate);
            }
            else if (rate.Key.Equals(nameof(KestrelServerLimits.MinRequestBodyDataRate), StringComparison.OrdinalIgnoreCase))
            {
                options.Limits.MinRequestBodyDataRate = ReadRate(rate);
            }
        }
    }
}
