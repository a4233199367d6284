using System.Diagnostics;

namespace Pipeline.EmbeddedKafka.Tests;

/// <summary>Debian's kcat: a Kafka client nobody in this project wrote, run as its own process.</summary>
public static class Kcat
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static async Task<Result> RunAsync(string? stdin, params string[] args)
    {
        var info = new ProcessStartInfo("kcat")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"kcat {string.Join(' ', args)} did not finish: {await stderr}");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Produces "key:value" lines to one partition and fails the test if kcat fails.</summary>
    public static async Task ProduceAsync(string bootstrap, string topic, int partition, IEnumerable<string> keyColonValueLines)
    {
        var result = await RunAsync(string.Join('\n', keyColonValueLines) + "\n",
            "-P", "-b", bootstrap, "-t", topic, "-p", partition.ToString(System.Globalization.CultureInfo.InvariantCulture), "-K:");
        Assert.True(result.ExitCode == 0, $"kcat produce failed ({result.ExitCode}): {result.Stderr}");
    }
}
