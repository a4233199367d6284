namespace Pipeline.Cli;

internal static class HelpText
{
    public static int Write(TextWriter output, IReadOnlyList<string> topic)
    {
        var matches = CommandCatalog.All.Where(c => topic.Count > 0 && c.Path.Take(topic.Count).SequenceEqual(topic)).ToList();
        if (matches.Count > 0)
        {
            foreach (var c in matches)
            {
                output.WriteLine($"pipeline {string.Join(' ', c.Path)} - {c.Summary}");
                if (c.Usage.Length > 0) output.WriteLine(Indent(c.Usage));
                output.WriteLine();
            }
            return 0;
        }

        output.WriteLine("pipeline - GPU metrics ingest (Kafka -> TimescaleDB/PostgreSQL) and GPU inventory");
        output.WriteLine();
        output.WriteLine("usage: pipeline COMMAND [ARGS] [--Section:Setting=value ...]");
        output.WriteLine();
        output.WriteLine("commands:");
        var width = CommandCatalog.All.Max(c => string.Join(' ', c.Path).Length);
        foreach (var c in CommandCatalog.All)
            output.WriteLine($"  {string.Join(' ', c.Path).PadRight(width)}  {c.Summary}");
        output.WriteLine();
        output.WriteLine("settings come from appsettings.json, then PIPELINE_* environment variables");
        output.WriteLine("(PIPELINE_Database__ConnectionString), then --Database:ConnectionString=... flags.");
        output.WriteLine("'pipeline help COMMAND' shows the settings a command reads.");
        return topic.Count == 0 ? 0 : 2;
    }

    private static string Indent(string text) =>
        string.Join(Environment.NewLine, text.Split('\n').Select(l => "    " + l.TrimEnd('\r')));
}
