using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Database.Migrations;

/// <summary>One versioned schema change from sql/migrations: NNNN_name.up.sql and NNNN_name.down.sql.</summary>
public sealed record Migration(int Version, string Name, string UpSql, string DownSql)
{
    /// <summary>SHA-256 of the up script with line endings normalised, so a checkout on another OS does not drift.</summary>
    /// <remarks>Computed on each read rather than stored, so a copy made with <c>with { UpSql = ... }</c> gets its own.</remarks>
    public string Checksum => Convert.ToHexStringLower(
        SHA256.HashData(Encoding.UTF8.GetBytes(UpSql.Replace("\r\n", "\n", StringComparison.Ordinal))));

    public string FileName => $"{Version:D4}_{Name}.up.sql";
}
