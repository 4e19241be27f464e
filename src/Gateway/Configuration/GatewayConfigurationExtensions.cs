using Microsoft.Extensions.Configuration.Json;

namespace Gateway.Configuration;

internal static class GatewayConfigurationExtensions
{
    /// <summary>Command-line key naming the configuration file (<c>--config /path/file.json</c>).</summary>
    public const string ConfigArgument = "config";

    /// <summary>Environment variable naming the configuration file.</summary>
    public const string ConfigVariable = "GATEWAY_CONFIG";

    /// <summary>Configuration key under which the full path of the file that was read is kept (outside the Gateway section).</summary>
    internal const string FileKey = HostKeys.ConfigurationFile;

    /// <summary>
    /// Makes one JSON file the gateway's configuration: the file named by <c>--config</c> or
    /// <c>GATEWAY_CONFIG</c>, else the appsettings.json shipped next to the binary (the repository root's).
    /// It takes the place of the default appsettings files; environment variables and the command line
    /// still override single keys.
    /// </summary>
    public static WebApplicationBuilder AddGatewayConfiguration(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var argument = configuration[ConfigArgument];
        var named = argument ?? configuration[ConfigVariable];
        var path = Path.GetFullPath(named ?? Path.Combine(AppContext.BaseDirectory, "appsettings.json"));
        var origin = named is null ? "the default appsettings.json" : argument is not null ? "--config" : ConfigVariable;

        var sources = configuration.Sources;
        var index = sources.Count;
        for (var i = sources.Count - 1; i >= 0; i--)
        {
            if (sources[i] is JsonConfigurationSource { Path: { } p } && p.StartsWith("appsettings", StringComparison.OrdinalIgnoreCase))
            {
                sources.RemoveAt(i);
                index = i;
            }
        }

        if (!File.Exists(path))
        {
            throw new GatewayConfigurationException($"{origin}: configuration file '{path}' does not exist");
        }

        var source = new JsonConfigurationSource { Path = Path.GetFileName(path), Optional = false, ReloadOnChange = false };
        source.FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(Path.GetDirectoryName(path)!);
        try
        {
            sources.Insert(index, source);
        }
        catch (InvalidDataException ex)
        {
            throw new GatewayConfigurationException($"{origin}: configuration file '{path}' is not valid JSON{Where(ex)}", ex);
        }

        // YARP reads its own TimeSpans with TimeSpan.Parse: Go-style durations are rewritten for it.
        configuration.AddInMemoryCollection([new(FileKey, path), .. ConfigurationShape.ProxyDurationOverrides(configuration).ToList()]);
        return builder;
    }

    /// <summary>
    /// Where the JSON went wrong, as editors count (line and column from 1; System.Text.Json counts both from 0 and
    /// writes them after its message), and what: <c> at line 4, column 3: ']' is invalid without a matching open</c>.
    /// </summary>
    internal static string Where(Exception exception)
    {
        var root = exception.GetBaseException();
        var message = root.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        var what = (cut >= 0 ? message[..cut] : message).TrimEnd().TrimEnd('.');
        return root is System.Text.Json.JsonException { LineNumber: { } line, BytePositionInLine: { } column }
            ? $" at line {line + 1}, column {column + 1}: {what}"
            : $": {what}";
    }
}
