using Microsoft.Extensions.Configuration;

namespace Pipeline.Hosting;

/// <summary>
/// The one configuration path: appsettings.json beside the binary, then PIPELINE_* environment
/// variables (PIPELINE_Database__ConnectionString), then --Key=value flags; later sources win.
/// </summary>
public static class PipelineConfiguration
{
    public const string EnvironmentPrefix = "PIPELINE_";

    public static IConfigurationRoot Build(IReadOnlyList<string> flags, string? baseDirectory = null) =>
        new ConfigurationBuilder()
            .SetBasePath(baseDirectory ?? AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true, reloadOnChange: false)
            .AddEnvironmentVariables(EnvironmentPrefix)
            .AddCommandLine(flags.ToArray())
            .Build();
}
