using System.Reflection;
using System.Text.RegularExpressions;

namespace Pipeline.Database.Migrations;

/// <summary>
/// The migrations compiled into this binary from sql/migrations (embedded resources), so the
/// tool that applies them always carries exactly the scripts it was built with.
/// </summary>
public static partial class MigrationCatalog
{
    [GeneratedRegex(@"^migrations/(?<version>\d{4})_(?<name>[a-z0-9_]+)\.(?<dir>up|down)\.sql$")]
    private static partial Regex ResourceName();

    public static IReadOnlyList<Migration> Embedded { get; } = Load(typeof(MigrationCatalog).Assembly);

    public static IReadOnlyList<Migration> Load(Assembly assembly)
    {
        var parts = new Dictionary<(int Version, string Name), (string? Up, string? Down)>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = ResourceName().Match(resource);
            if (!match.Success) continue;
            var key = (int.Parse(match.Groups["version"].Value), match.Groups["name"].Value);
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            var sql = reader.ReadToEnd();
            parts.TryGetValue(key, out var pair);
            parts[key] = match.Groups["dir"].Value == "up" ? (sql, pair.Down) : (pair.Up, sql);
        }

        var migrations = new List<Migration>();
        foreach (var ((version, name), (up, down)) in parts.OrderBy(p => p.Key.Version))
        {
            if (up is null || down is null)
                throw new InvalidOperationException($"Migration {version:D4}_{name} needs both an .up.sql and a .down.sql script.");
            migrations.Add(new Migration(version, name, up, down));
        }
        var duplicate = migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidOperationException($"Two migrations share version {duplicate.Key:D4}: {string.Join(", ", duplicate.Select(m => m.Name))}.");
        return migrations;
    }
}
