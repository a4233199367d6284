using System.Diagnostics;
using Pipeline.TestSupport;

namespace Pipeline.Database.Tests;

public sealed record CliResult(int ExitCode, string StandardOutput, string StandardError);

/// <summary>Runs the real `pipeline` tool (dotnet pipeline.dll) as a separate process, the way an operator would.</summary>
public static class PipelineCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <param name="connectionString">Exported as PIPELINE_Database__ConnectionString; null removes it from the environment.</param>
    public static async Task<CliResult> RunAsync(string? connectionString, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(TestEnvironment.PipelineDll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        // Only what the test says reaches the child: no connection string inherited from the runner's shell.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("PIPELINE_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);
        if (connectionString is not null)
            start.Environment["PIPELINE_Database__ConnectionString"] = connectionString;

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"pipeline {string.Join(' ', args)} did not finish within {Timeout}");
        }
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
