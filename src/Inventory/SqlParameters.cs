using Npgsql;
using NpgsqlTypes;

namespace Pipeline.Inventory;

/// <summary>Typed parameters for NpgsqlCommand: every value a client sends reaches SQL only this way.</summary>
public static class SqlParameters
{
    public static NpgsqlCommand With(this NpgsqlCommand command, string name, NpgsqlDbType type, object? value)
    {
        command.Parameters.Add(new NpgsqlParameter(name, type) { Value = value ?? DBNull.Value });
        return command;
    }
}
