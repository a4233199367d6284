namespace Pipeline.TestSupport;

/// <summary>
/// Runs the real `pipeline` tool (`dotnet pipeline.dll ...`) to completion, the way an operator or a
/// script would. For a long-running pipeline that tests signal, see <see cref="PipelineProcess"/>.
/// </summary>
public static class PipelineCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <param name="environment">The only PIPELINE_* variables the child sees: none is inherited from the runner's shell.</param>
    public static Task<ExternalCommand.Result> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var childEnvironment = new Dictionary<string, string?>();
        foreach (var key in Environment.GetEnvironmentVariables().Keys.Cast<string>())
            if (key.StartsWith("PIPELINE_", StringComparison.Ordinal)) childEnvironment[key] = null;
        foreach (var (key, value) in environment) childEnvironment[key] = value;
        // A neutral working directory: the tool must not depend on where it is started from.
        return ExternalCommand.RunAsync("dotnet", [TestEnvironment.PipelineDll, .. args], Timeout, childEnvironment, Path.GetTempPath());
    }

    /// <param name="connectionString">Exported as PIPELINE_Database__ConnectionString; null leaves it unset.</param>
    public static Task<ExternalCommand.Result> RunAgainstDatabaseAsync(string? connectionString, params string[] args) =>
        RunAsync(connectionString is null
            ? new Dictionary<string, string>()
            : new Dictionary<string, string> { ["PIPELINE_Database__ConnectionString"] = connectionString }, args);
}
