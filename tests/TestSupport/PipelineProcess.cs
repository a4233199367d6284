using System.Diagnostics;
using System.Text;

namespace Pipeline.TestSupport;

/// <summary>
/// The real pipeline tool as a child process (`dotnet pipeline.dll ...`), so tests can send it
/// SIGTERM or SIGKILL. Its stdout and stderr are kept (see <see cref="Output"/>) for assertion
/// messages and for waiting on log lines. Killed on dispose if still running.
/// </summary>
public sealed class PipelineProcess : IAsyncDisposable
{
    private const int MaxKeptLines = 20_000;

    private readonly Process _process;
    private readonly string _name;
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private readonly List<(Func<string, bool> Predicate, TaskCompletionSource<string> Found)> _waiters = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _droppedLines;

    private PipelineProcess(Process process, string name)
    {
        _process = process;
        _name = name;
    }

    /// <summary>
    /// Starts `dotnet pipeline.dll <paramref name="arguments"/>`. PIPELINE_* variables of the test
    /// process are not inherited, so only the flags and <paramref name="environment"/> configure it.
    /// </summary>
    public static PipelineProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string name = "pipeline")
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(TestEnvironment.PipelineDll);
        foreach (var a in arguments) info.ArgumentList.Add(a);
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("PIPELINE_", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            info.Environment[key] = value;

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var started = new PipelineProcess(process, name);
        process.OutputDataReceived += (_, e) => started.OnLine(e.Data, "out", started._stdoutClosed);
        process.ErrorDataReceived += (_, e) => started.OnLine(e.Data, "err", started._stderrClosed);
        if (!process.Start()) throw new InvalidOperationException("could not start dotnet " + TestEnvironment.PipelineDll);
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process printed so far, each line tagged with its stream.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                var text = new StringBuilder();
                text.Append("--- ").Append(_name).Append(" (pid ").Append(_process.Id).Append(") output ---\n");
                if (_droppedLines > 0) text.Append("... ").Append(_droppedLines).Append(" earlier lines dropped ...\n");
                foreach (var line in _lines) text.Append(line).Append('\n');
                return text.ToString();
            }
        }
    }

    /// <summary>The last lines only, for assertion messages that should stay readable.</summary>
    public string OutputTail(int lines = 60)
    {
        lock (_gate)
            return $"--- {_name} (pid {_process.Id}) last {Math.Min(lines, _lines.Count)} lines ---\n" + string.Join('\n', _lines.TakeLast(lines));
    }

    /// <summary>The first warnings, errors and stderr lines: after a long retry loop the tail alone hides how it began.</summary>
    public string FirstProblems(int lines = 8)
    {
        lock (_gate)
        {
            var problems = _lines.Where(l => l.StartsWith("[err]", StringComparison.Ordinal)
                    || l.Contains(" warn:", StringComparison.Ordinal) || l.Contains(" fail:", StringComparison.Ordinal)
                    || l.Contains(" crit:", StringComparison.Ordinal))
                .Take(lines).ToList();
            return problems.Count == 0 ? "" : $"--- {_name} first {problems.Count} problem lines ---\n" + string.Join('\n', problems);
        }
    }

    /// <summary>
    /// Completes with the first line (already printed or still to come) matching
    /// <paramref name="predicate"/>; throws with the output so far on timeout or when the process exits first.
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var existing = _lines.FirstOrDefault(l => predicate(l[6..]));
            if (existing is not null) return existing[6..];
            _waiters.Add((predicate, found));
        }
        var exited = _process.WaitForExitAsync();
        var finished = await Task.WhenAny(found.Task, exited, Task.Delay(timeout));
        if (finished == found.Task) return await found.Task;
        lock (_gate) _waiters.RemoveAll(w => w.Found == found);
        if (finished == exited)
        {
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            lock (_gate)
            {
                var late = _lines.FirstOrDefault(l => predicate(l[6..]));
                if (late is not null) return late[6..];
            }
            throw new InvalidOperationException($"{_name} exited with {_process.ExitCode} before printing the awaited line\n{OutputTail()}");
        }
        throw new TimeoutException($"{_name} did not print the awaited line within {timeout}\n{OutputTail()}");
    }

    /// <summary>kill -TERM: the graceful shutdown request an orchestrator sends.</summary>
    public void SignalTerm() => PosixProcesses.Signal(_process.Id, PosixProcesses.SigTerm);

    /// <summary>kill -STOP: frozen mid-whatever, as a long GC pause or a stalled VM looks to its peers.</summary>
    public void Pause() => PosixProcesses.Signal(_process.Id, PosixProcesses.SigStop);

    /// <summary>kill -CONT after <see cref="Pause"/>.</summary>
    public void Resume() => PosixProcesses.Signal(_process.Id, PosixProcesses.SigCont);

    /// <summary>kill -9: no chance to flush, commit or say goodbye.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        PosixProcesses.Signal(_process.Id, PosixProcesses.SigKill);
        await _process.WaitForExitAsync();
    }

    /// <summary>The exit code; throws with the output when the process is still running after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{_name} still running after {timeout}\n{OutputTail()}");
        }
        // Let the output readers reach the end of the pipes so the last lines are in Output.
        await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) await KillAsync();
        }
        catch (InvalidOperationException)
        {
            // never started
        }
        _process.Dispose();
    }

    private void OnLine(string? line, string stream, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }
        List<TaskCompletionSource<string>>? satisfied = null;
        lock (_gate)
        {
            _lines.Add($"[{stream}] {line}");
            if (_lines.Count > MaxKeptLines)
            {
                // Keep the start (startup messages) and the most recent lines.
                _lines.RemoveAt(200);
                _droppedLines++;
            }
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (!_waiters[i].Predicate(line)) continue;
                (satisfied ??= []).Add(_waiters[i].Found);
                _waiters.RemoveAt(i);
            }
        }
        if (satisfied is not null)
            foreach (var found in satisfied) found.TrySetResult(line);
    }
}
