using System.Text.Json;

namespace Pipeline.Cli.Commands;

/// <summary>How the inventory commands print: aligned tables for people, --json for scripts, errors on stderr.</summary>
internal static class InventoryCliOutput
{
    public static void WriteJson(TextWriter output, JsonElement json) =>
        output.WriteLine(JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));

    public static void WriteTable(TextWriter output, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => r[i].Length))).ToArray();
        output.WriteLine(string.Join("  ", headers.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var row in all)
            output.WriteLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
    }

    /// <summary>A property of a JSON object as display text ("" when absent or null).</summary>
    public static string Field(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString() ?? "",
            JsonValueKind.Null or JsonValueKind.Undefined => "",
            JsonValueKind.True => "yes",
            JsonValueKind.False => "no",
            JsonValueKind.Number => value.GetRawText(),
            _ => value.GetRawText(),
        } : "";

    /// <summary>Runs an API call, turning HTTP and connection failures into a message on stderr and exit code 1.</summary>
    public static async Task<int> ReportFailuresAsync(string command, Func<Task<int>> run)
    {
        try
        {
            return await run();
        }
        catch (InventoryApiException ex)
        {
            await Console.Error.WriteLineAsync($"pipeline {command}: {ex.Message}");
            return 1;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"pipeline {command}: cannot reach the inventory API: {ex.Message} (set Inventory:Url)");
            return 1;
        }
        catch (TaskCanceledException ex) when (ex.InnerException is TimeoutException)
        {
            await Console.Error.WriteLineAsync($"pipeline {command}: the inventory API did not answer in time (Inventory:ClientTimeout)");
            return 1;
        }
    }
}
