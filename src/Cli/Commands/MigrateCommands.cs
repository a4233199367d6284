using Microsoft.Extensions.Logging;
using Pipeline.Database;
using Pipeline.Database.Migrations;
using Pipeline.Hosting;

namespace Pipeline.Cli.Commands;

public sealed class MigrateUpCommand : ICliCommand
{
    public IReadOnlyList<string> Path => ["migrate", "up"];
    public string Summary => "apply pending schema migrations from sql/migrations";
    public string Usage => "--to N              stop after version N (default: all)\n--Database:ConnectionString=...";

    public async Task<int> RunAsync(CliContext context, CancellationToken cancellation)
    {
        var db = DatabaseOptions.From(context.Configuration);
        int? to = context.Configuration["to"] is { } raw ? Settings.Int(context.Configuration, "to", 0, 0, 9999) : null;
        var runner = new MigrationRunner(db.ConnectionString, context.LoggerFactory.CreateLogger<MigrationRunner>());
        try
        {
            var applied = await runner.UpAsync(to, cancellation);
            context.Out.WriteLine(applied.Count == 0 ? "migrate up: schema is up to date" : $"migrate up: applied {applied.Count} migration(s)");
            return 0;
        }
        catch (MigrationRefusedException ex)
        {
            Console.Error.WriteLine($"migrate up: refused: {ex.Message}");
            return 1;
        }
    }
}

public sealed class MigrateDownCommand : ICliCommand
{
    public IReadOnlyList<string> Path => ["migrate", "down"];
    public string Summary => "revert migrations newer than --to N (0 reverts everything)";
    public string Usage => "--to N              required: the version to return to\n--Database:ConnectionString=...";

    public async Task<int> RunAsync(CliContext context, CancellationToken cancellation)
    {
        var db = DatabaseOptions.From(context.Configuration);
        Settings.RequiredString(context.Configuration, "to");
        var to = Settings.Int(context.Configuration, "to", 0, 0, 9999);
        var runner = new MigrationRunner(db.ConnectionString, context.LoggerFactory.CreateLogger<MigrationRunner>());
        try
        {
            var reverted = await runner.DownAsync(to, cancellation);
            context.Out.WriteLine($"migrate down: reverted {reverted.Count} migration(s); now at version {to:D4}");
            return 0;
        }
        catch (MigrationRefusedException ex)
        {
            Console.Error.WriteLine($"migrate down: refused: {ex.Message}");
            return 1;
        }
    }
}

public sealed class MigrateStatusCommand : ICliCommand
{
    public IReadOnlyList<string> Path => ["migrate", "status"];
    public string Summary => "list migrations, which are applied and whether any applied file changed";
    public string Usage => "--Database:ConnectionString=...";

    public async Task<int> RunAsync(CliContext context, CancellationToken cancellation)
    {
        var db = DatabaseOptions.From(context.Configuration);
        var runner = new MigrationRunner(db.ConnectionString, context.LoggerFactory.CreateLogger<MigrationRunner>());
        var drift = false;
        context.Out.WriteLine("version  name                       state     applied at");
        foreach (var s in await runner.StatusAsync(cancellation))
        {
            var changed = s.Applied is not null && s.Applied.Checksum != s.Migration.Checksum;
            drift |= changed;
            var state = s.Applied is null ? "pending" : changed ? "CHANGED" : "applied";
            context.Out.WriteLine($"{s.Migration.Version:D4}     {s.Migration.Name,-26} {state,-9} {s.Applied?.AppliedAt.ToString("u") ?? ""}");
        }
        return drift ? 1 : 0;
    }
}
