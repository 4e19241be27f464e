using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> (the Debian package; <c>.ci/run</c> installs it) run as a child process on 127.0.0.1
/// and a free port, nothing persisted (<c>--save '' --appendonly no</c>). It can be stopped and started again on
/// the same port; disposing kills it.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _binary;
    private Process? _process;

    private RedisServer(string binary, int port)
    {
        _binary = binary;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The StackExchange.Redis connection string for <c>Gateway:Cache:Redis</c>.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var binary = Find();
        Assert.True(binary is not null, "redis-server was not found on PATH: install the Debian package (apt-get install -y redis-server; .ci/run does it when run as root)");
        var server = new RedisServer(binary, Ports.Closed());
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the server (again, on the same port, empty) and waits until it answers PING.</summary>
    public async Task RestartAsync()
    {
        Assert.Null(_process);
        var start = new ProcessStartInfo(_binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in (string[])["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"])
        {
            start.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Append(output, e.Data);
        _process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var until = DateTime.UtcNow + Signal.Patience;
        while (!await PingAsync())
        {
            if (_process.HasExited || DateTime.UtcNow > until)
            {
                string log;
                lock (output)
                {
                    log = output.ToString();
                }

                await StopAsync();
                Assert.Fail($"redis-server on 127.0.0.1:{Port} did not come up: {log}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Kills the server (as a crash would: no goodbye to its clients).</summary>
    public async Task StopAsync()
    {
        if (_process is not { } process)
        {
            return;
        }

        _process = null;
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync().WaitAsync(Signal.Patience);
        process.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    private static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/bin", "/usr/sbin", "/usr/local/bin"])
            .Select(dir => Path.Combine(dir, "redis-server"))
            .FirstOrDefault(File.Exists);
}
