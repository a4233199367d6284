using Microsoft.Extensions.Logging;
using Pipeline.Cli;
using Pipeline.Hosting;

// pipeline COMMAND [SUBCOMMAND] [positional...] [--Setting:Key=value | --flag value ...]
// Words before the first flag pick the command; every flag goes to configuration.
var words = args.TakeWhile(a => !a.StartsWith('-')).ToList();
var flags = SwitchesAsTrue(args.Skip(words.Count).ToList());

if (words.Count == 0 || words[0] is "help" || flags.Any(f => f is "--help" or "--help=true" or "-h"))
{
    var topic = words.Count > 0 && words[0] is "help" ? words.Skip(1).ToList() : words;
    return HelpText.Write(Console.Out, topic);
}

var command = CommandCatalog.All
    .Where(c => c.Path.Count <= words.Count && c.Path.SequenceEqual(words.Take(c.Path.Count)))
    .MaxBy(c => c.Path.Count);
if (command is null)
{
    Console.Error.WriteLine($"pipeline: unknown command '{string.Join(' ', words)}'. Run 'pipeline --help' for the list.");
    return 2;
}

using var cancellation = new CancellationTokenSource();
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
    System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cancellation.Cancel(); });
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancellation.Cancel(); };

try
{
    var configuration = PipelineConfiguration.Build(flags);
    using var loggerFactory = LoggerFactory.Create(b => b
        .AddConfiguration(configuration.GetSection("Logging"))
        .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; }));
    var context = new CliContext(configuration, loggerFactory, words.Skip(command.Path.Count).ToList(), Console.Out);
    return await command.RunAsync(context, cancellation.Token);
}
catch (InvalidSettingException ex)
{
    Console.Error.WriteLine($"pipeline: {ex.Message}");
    return 3;
}

// A bare switch (--json followed by another flag or by nothing) means true; the configuration
// parser would otherwise drop it or take the next flag as its value.
static List<string> SwitchesAsTrue(List<string> flags)
{
    var result = new List<string>(flags.Count);
    for (var i = 0; i < flags.Count; i++)
    {
        var flag = flags[i];
        var isBareSwitch = flag.StartsWith("--", StringComparison.Ordinal) && !flag.Contains('=')
            && (i + 1 == flags.Count || flags[i + 1].StartsWith("--", StringComparison.Ordinal));
        result.Add(isBareSwitch ? flag + "=true" : flag);
    }
    return result;
}
