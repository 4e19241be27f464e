using Gateway.Configuration;

namespace Gateway.Limits;

/// <summary>A validated <see cref="RateLimitOptions"/>: <see cref="PermitLimit"/> requests per <see cref="Window"/>.</summary>
internal sealed record FixedWindowLimit(int PermitLimit, TimeSpan Window)
{
    /// <summary>The limit <paramref name="options"/> describes, null when it sets none; problems go to <paramref name="errors"/> naming <paramref name="key"/>.</summary>
    public static FixedWindowLimit? From(RateLimitOptions? options, string key, List<string> errors)
    {
        if (options is null || (options.PermitLimit is null && options.Window is null))
        {
            return null;
        }

        var count = errors.Count;
        if (options.PermitLimit is not { } permits)
        {
            errors.Add($"{key}:PermitLimit: is required with {key}:Window");
        }
        else if (permits < 1)
        {
            errors.Add($"{key}:PermitLimit: must be at least 1 (was {permits})");
        }

        if (options.Window is not { } window)
        {
            errors.Add($"{key}:Window: is required with {key}:PermitLimit (e.g. \"1s\", \"1m\")");
        }
        else if (window <= TimeSpan.Zero)
        {
            errors.Add($"{key}:Window: must be positive (was {window})");
        }

        return errors.Count == count ? new FixedWindowLimit(options.PermitLimit!.Value, options.Window!.Value) : null;
    }
}
