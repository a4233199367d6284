namespace Pipeline.Hosting;

/// <summary>
/// A setting is missing or out of range. Thrown before any work starts; the message names the
/// setting by its configuration key so an operator can fix appsettings.json, the PIPELINE_*
/// environment variable or the command-line flag.
/// </summary>
public sealed class InvalidSettingException(string key, string problem)
    : Exception($"Invalid setting '{key}': {problem}")
{
    public string Key { get; } = key;
}
