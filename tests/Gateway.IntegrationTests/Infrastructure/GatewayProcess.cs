using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>The built gateway run as a child process: <c>dotnet Gateway.dll ...</c>.</summary>
public sealed partial class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    private GatewayProcess(Process process) => _process = process;

    /// <summary>The gateway's assembly, copied next to the test assembly by the project reference.</summary>
    public static string GatewayDll => Path.Combine(AppContext.BaseDirectory, "Gateway.dll");

    public string StandardOutput
    {
        get
        {
            lock (_lock)
            {
                return _stdout.ToString();
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (_lock)
            {
                return _stderr.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The gateway's process id (<c>dotnet Gateway.dll</c> runs the gateway in the process it starts).</summary>
    public int Id => _process.Id;

    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Starts the gateway (or another built app of the repository, <paramref name="dll"/>); <paramref name="environment"/>
    /// entries with a null value are removed.
    /// </summary>
    public static GatewayProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, string? dll = null)
    {
        dll ??= GatewayDll;
        Assert.True(File.Exists(dll), $"{dll} not found: the test project must reference its project");
        var startInfo = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        startInfo.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // Nothing from the test run's environment may choose the configuration or the address.
        foreach (var inherited in new[] { "GATEWAY_CONFIG", "ASPNETCORE_URLS", "DOTNET_URLS", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT" })
        {
            startInfo.Environment.Remove(inherited);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = startInfo };
        var gateway = new GatewayProcess(process);
        process.OutputDataReceived += (_, e) => gateway.Append(gateway._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => gateway.Append(gateway._stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return gateway;
    }

    /// <summary>Runs the gateway until it exits; kills it and fails after <paramref name="limit"/> (default 30 s).</summary>
    public static async Task<GatewayProcess> RunToExitAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? limit = null)
    {
        var gateway = Start(arguments, environment);
        await gateway.WaitForExitAsync(limit ?? TimeSpan.FromSeconds(30));
        return gateway;
    }

    public async Task WaitForExitAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"the gateway did not exit within {limit}; stdout: {StandardOutput} stderr: {StandardError}");
        }

        // Let the asynchronous readers drain what is left of the output.
        _process.WaitForExit();
    }

    /// <summary>The address the gateway logs once listening ("Now listening on: ..."); bounded wait.</summary>
    public Task<Uri> WaitUntilListeningAsync(TimeSpan limit) => _listening.Task.WaitAsync(limit);

    /// <summary>Sends the gateway SIGTERM (what Kubernetes, Docker and systemd send to stop it) with <c>kill</c>; returns at once.</summary>
    public void Terminate()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
        kill.WaitForExit();
        Assert.True(kill.ExitCode == 0, $"kill -TERM {_process.Id} failed with exit code {kill.ExitCode}");
    }

    /// <summary>Kills the gateway (a crash: no graceful stop); a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }

        _process.Dispose();
    }

    public override string ToString() => $"stdout: {StandardOutput}{Environment.NewLine}stderr: {StandardError}";

    [GeneratedRegex(@"Now listening on: (http://[^\s""]+)")]
    private static partial Regex ListeningLine();

    private void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            output.AppendLine(line);
        }

        if (ListeningLine().Match(line) is { Success: true } match)
        {
            _listening.TrySetResult(new Uri(match.Groups[1].Value.TrimEnd('/') + "/"));
        }
    }
}
