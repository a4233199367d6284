namespace Pipeline.TestSupport;

/// <summary>
/// Where the tests find the embedded default: the PIPELINE_* variables that scripts/local-env.sh
/// writes to .local/env (scripts/test.sh exports them). When they are not exported, .local/env
/// is read directly so a plain `dotnet test` works after `scripts/local-env.sh up`.
/// </summary>
public static class TestEnvironment
{
    private static readonly Lazy<IReadOnlyDictionary<string, string>> LocalEnv = new(ReadLocalEnv);

    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>Connection string of the project-owned PostgreSQL; tests create their own databases on it.</summary>
    public static string DatabaseConnectionString => Get("PIPELINE_Database__ConnectionString");

    /// <summary>The built pipeline tool; test projects that spawn it reference src/Cli, which copies it beside them.</summary>
    public static string PipelineDll => Path.Combine(AppContext.BaseDirectory, "pipeline.dll");

    public static string Get(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value
        : LocalEnv.Value.TryGetValue(name, out var local) ? local
        : throw new InvalidOperationException(
            $"{name} is not set. Start the embedded default with 'scripts/local-env.sh up' (or run scripts/test.sh).");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        // Built with --artifacts-path outside the tree: fall back to the working directory's repository.
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find Pipeline.sln above " + AppContext.BaseDirectory);
    }

    private static IReadOnlyDictionary<string, string> ReadLocalEnv()
    {
        var path = Path.Combine(RepositoryRoot, ".local", "env");
        var result = new Dictionary<string, string>();
        if (!File.Exists(path)) return result;
        foreach (var line in File.ReadAllLines(path))
        {
            var text = line.StartsWith("export ", StringComparison.Ordinal) ? line[7..] : line;
            var eq = text.IndexOf('=');
            if (eq <= 0) continue;
            result[text[..eq].Trim()] = text[(eq + 1)..].Trim().Trim('"');
        }
        return result;
    }
}
