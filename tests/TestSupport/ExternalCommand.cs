using System.Diagnostics;
using System.Text;

namespace Pipeline.TestSupport;

/// <summary>Runs a short-lived tool (initdb, pg_ctl, chown) to completion and keeps what it printed.</summary>
public static class ExternalCommand
{
    public sealed record Result(int ExitCode, string Output);

    public static async Task<Result> RunAsync(string file, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        process.StandardInput.Close();
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', info.ArgumentList)} did not finish within {timeout}");
        }
        output.Append(await stdout).Append(await stderr);
        return new Result(process.ExitCode, output.ToString());
    }

    /// <summary>Runs and throws with the tool's output when it fails.</summary>
    public static async Task<string> RunCheckedAsync(string file, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var list = arguments.ToList();
        var result = await RunAsync(file, list, timeout);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', list)} exited with {result.ExitCode}:\n{result.Output}");
        return result.Output;
    }
}
