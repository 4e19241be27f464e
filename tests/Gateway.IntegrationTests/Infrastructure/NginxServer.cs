using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>
/// A real <c>nginx</c> (the Debian package; <c>.ci/run</c> installs it) run in the foreground as a child process on a
/// configuration the test gives, in a temporary prefix directory of its own (pid file, error log, temp paths).
/// Disposing stops it and removes the directory.
/// </summary>
public sealed class NginxServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;
    private readonly string _prefix;

    private NginxServer(Process process, StringBuilder output, string prefix)
    {
        _process = process;
        _output = output;
        _prefix = prefix;
    }

    /// <summary>
    /// Starts nginx on <paramref name="configuration"/> (a whole nginx.conf). Its <c>http</c> block gets temp paths
    /// inside the prefix, so that nothing is written outside it.
    /// </summary>
    public static NginxServer Start(string configuration)
    {
        var binary = Find();
        Assert.True(binary is not null, "nginx was not found on PATH or in /usr/sbin: install the Debian package (apt-get install -y nginx; .ci/run does it when run as root)");
        var prefix = Directory.CreateTempSubdirectory("gateway-nginx-").FullName;
        var temp = string.Join(Environment.NewLine, new[] { "client_body", "proxy", "fastcgi", "uwsgi", "scgi" }
            .Select(t => string.Create(CultureInfo.InvariantCulture, $"  {t}_temp_path {Path.Combine(prefix, t)};")));
        var http = configuration.IndexOf("http {", StringComparison.Ordinal);
        Assert.True(http >= 0, "the nginx configuration has no 'http {' block");
        File.WriteAllText(Path.Combine(prefix, "nginx.conf"), configuration.Insert(http + "http {".Length, Environment.NewLine + temp));

        var start = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = prefix,
        };
        foreach (var argument in (string[])["-p", prefix, "-c", Path.Combine(prefix, "nginx.conf"), "-e", Path.Combine(prefix, "error.log"),
            "-g", $"daemon off; pid {Path.Combine(prefix, "nginx.pid")};"])
        {
            start.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new NginxServer(process, output, prefix);
    }

    public bool HasExited => _process.HasExited;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync().WaitAsync(Signal.Patience);
        _process.Dispose();
        try
        {
            Directory.Delete(_prefix, recursive: true);
        }
        catch (IOException)
        {
            // A worker's file still open: the temp directory is left to the system.
        }
        catch (UnauthorizedAccessException)
        {
            // Temp directories made by a worker under another user: likewise.
        }
    }

    /// <summary>What nginx wrote to its console and its error log, for a failure message.</summary>
    public override string ToString()
    {
        string console;
        lock (_output)
        {
            console = _output.ToString();
        }

        var log = Path.Combine(_prefix, "error.log");
        return $"console: {console}{Environment.NewLine}error.log: {(File.Exists(log) ? File.ReadAllText(log) : "(none)")}";
    }

    private static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Append("/usr/sbin")
            .Select(d => Path.Combine(d, "nginx"))
            .FirstOrDefault(File.Exists);

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
