using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Pipeline.TestSupport;

namespace Pipeline.EmbeddedKafka.Tests;

/// <summary>
/// The real `pipeline broker` process, started with its own state directory (deleted on dispose).
/// Output lines are collected so tests can wait for a log line; waits are bounded and fail with
/// the collected output, they never assert on how long something took.
/// </summary>
public sealed class BrokerProcess : IAsyncDisposable
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly bool _ownsStateDirectory;

    private BrokerProcess(Process process, string stateDirectory, bool ownsStateDirectory)
    {
        _process = process;
        StateDirectory = stateDirectory;
        _ownsStateDirectory = ownsStateDirectory;
    }

    public string StateDirectory { get; }

    public string BootstrapFile => Path.Combine(StateDirectory, "bootstrap.txt");

    public int Pid => _process.Id;

    public IEnumerable<string> Output => _output;

    public string OutputText => string.Join('\n', _output);

    /// <summary>Starts the broker; <paramref name="stateDirectory"/> null means a fresh temp folder owned by this object.</summary>
    public static BrokerProcess Start(string? stateDirectory = null, params string[] settings)
    {
        var owns = stateDirectory is null;
        stateDirectory ??= Directory.CreateTempSubdirectory("broker-test-").FullName;
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = stateDirectory,
        };
        info.ArgumentList.Add(TestEnvironment.PipelineDll);
        info.ArgumentList.Add("broker");
        info.ArgumentList.Add($"--Broker:StateDirectory={stateDirectory}");
        foreach (var s in settings) info.ArgumentList.Add(s);
        // The developer's shell may carry settings for the scripts' broker; these tests choose their own.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("PIPELINE_Broker__", StringComparison.OrdinalIgnoreCase)).ToList())
            info.Environment.Remove(name);

        var process = new Process { StartInfo = info };
        var broker = new BrokerProcess(process, stateDirectory, owns);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) broker._output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) broker._output.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return broker;
    }

    /// <summary>Waits until bootstrap.txt exists and returns the address in it.</summary>
    public async Task<string> WaitForBootstrapAsync()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < WaitLimit)
        {
            if (File.Exists(BootstrapFile))
                return (await File.ReadAllTextAsync(BootstrapFile)).Trim();
            if (_process.HasExited)
                throw new InvalidOperationException($"broker exited with {_process.ExitCode} before writing {BootstrapFile}:\n{OutputText}");
            await Task.Delay(50);
        }
        throw new TimeoutException($"broker wrote no {BootstrapFile} within {WaitLimit}:\n{OutputText}");
    }

    public async Task<string> WaitForLineAsync(Func<string, bool> match)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < WaitLimit)
        {
            var line = _output.FirstOrDefault(match);
            if (line is not null) return line;
            if (_process.HasExited)
                throw new InvalidOperationException($"broker exited with {_process.ExitCode} before logging the expected line:\n{OutputText}");
            await Task.Delay(100);
        }
        throw new TimeoutException($"broker did not log the expected line within {WaitLimit}:\n{OutputText}");
    }

    public void SendSigterm()
    {
        if (kill(_process.Id, 15) != 0)
            throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed with errno {Marshal.GetLastPInvokeError()}");
    }

    public async Task<int> WaitForExitAsync()
    {
        using var limit = new CancellationTokenSource(WaitLimit);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"broker pid {_process.Id} did not exit within {WaitLimit}:\n{OutputText}");
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        if (_ownsStateDirectory) Directory.Delete(StateDirectory, recursive: true);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
