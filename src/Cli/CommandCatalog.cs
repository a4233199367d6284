using Pipeline.Cli.Commands;

namespace Pipeline.Cli;

/// <summary>Every command of the pipeline tool, in the order --help lists them.</summary>
public static class CommandCatalog
{
    public static IReadOnlyList<ICliCommand> All { get; } =
    [
        new MigrateUpCommand(),
        new MigrateDownCommand(),
        new MigrateStatusCommand(),
        new PartitionsMaintainCommand(),
        new SimulateAgentsCommand(),
        new IngestCommand(),
        new BrokerCommand(),
        new InventoryServeCommand(),
        new InventoryGpusListCommand(),
        new InventoryGpusShowCommand(),
        new InventoryAllocateCommand(),
        new InventoryReleaseCommand(),
    ];
}
