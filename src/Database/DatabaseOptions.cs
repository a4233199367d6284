using Microsoft.Extensions.Configuration;
using Npgsql;
using Pipeline.Hosting;

namespace Pipeline.Database;

/// <summary>Where the database is. Every command that touches PostgreSQL/TimescaleDB reads this.</summary>
public sealed record DatabaseOptions(string ConnectionString)
{
    public const string ConnectionStringKey = "Database:ConnectionString";

    public static DatabaseOptions From(IConfiguration config)
    {
        var cs = Settings.RequiredString(config, ConnectionStringKey);
        try
        {
            _ = new NpgsqlConnectionStringBuilder(cs);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidSettingException(ConnectionStringKey, $"not a valid Npgsql connection string: {ex.Message}");
        }
        return new DatabaseOptions(cs);
    }
}
