using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Pipeline.Cli;

/// <summary>One verb of the pipeline tool. Commands are listed in <see cref="CommandCatalog"/>.</summary>
public interface ICliCommand
{
    /// <summary>Words that select the command, e.g. ["migrate", "up"].</summary>
    IReadOnlyList<string> Path { get; }

    /// <summary>One line for --help.</summary>
    string Summary { get; }

    /// <summary>Flags and settings the command reads, for "pipeline help COMMAND".</summary>
    string Usage { get; }

    /// <summary>Runs the command; the return value is the process exit code.</summary>
    Task<int> RunAsync(CliContext context, CancellationToken cancellation);
}

/// <param name="Configuration">appsettings.json + PIPELINE_* environment + --flags, see PipelineConfiguration.</param>
/// <param name="Arguments">Positional words after the command path.</param>
public sealed record CliContext(IConfiguration Configuration, ILoggerFactory LoggerFactory, IReadOnlyList<string> Arguments, TextWriter Out);
