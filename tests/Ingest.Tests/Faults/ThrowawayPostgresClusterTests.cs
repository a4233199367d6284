using Npgsql;
using Pipeline.Database.Migrations;
using Pipeline.TestSupport;

namespace Pipeline.Ingest.Tests.Faults;

/// <summary>The private cluster the fault tests restart and crash must keep committed data through both.</summary>
public sealed class ThrowawayPostgresClusterTests
{
    [Fact]
    public async Task Committed_rows_survive_a_stop_and_a_crash_on_the_same_port()
    {
        await using var cluster = await ThrowawayPostgresCluster.StartNewAsync();
        Assert.Equal((long)MigrationCatalog.Embedded.Count, await cluster.ScalarAsync<long>("SELECT count(*) FROM schema_migrations"));
        await Execute(cluster, "CREATE TABLE survivor (n int); INSERT INTO survivor VALUES (1)");

        await cluster.StopAsync();
        Assert.False(cluster.IsRunning);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => cluster.ScalarAsync<long>("SELECT 1::bigint"));
        await cluster.StartAsync();
        await Execute(cluster, "INSERT INTO survivor VALUES (2)");

        await cluster.KillAsync();
        Assert.False(cluster.IsRunning);
        await cluster.StartAsync();

        Assert.Equal(3L, await cluster.ScalarAsync<long>("SELECT sum(n)::bigint FROM survivor"));
    }

    [Fact]
    public async Task A_pooled_connection_from_before_a_restart_fails_once_and_the_pool_recovers()
    {
        // What the ingest process sees across a database restart: its pooled connection breaks.
        await using var cluster = await ThrowawayPostgresCluster.StartNewAsync();
        await using var source = NpgsqlDataSource.Create(cluster.ConnectionString);
        await using (var cmd = source.CreateCommand("SELECT 1")) await cmd.ExecuteScalarAsync();

        await cluster.StopAsync();
        await cluster.StartAsync();

        Exception? first = null;
        try { await using var cmd = source.CreateCommand("SELECT 1"); await cmd.ExecuteScalarAsync(); }
        catch (Exception ex) { first = ex; }
        await using var again = source.CreateCommand("SELECT 2");
        Assert.Equal(2, (int)(await again.ExecuteScalarAsync())!);
        Assert.True(first is null or NpgsqlException or InvalidOperationException, first?.ToString());
    }

    private static async Task Execute(ThrowawayPostgresCluster cluster, string sql)
    {
        await using var conn = new NpgsqlConnection(cluster.UnpooledConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
