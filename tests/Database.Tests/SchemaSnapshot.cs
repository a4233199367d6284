using Npgsql;

namespace Pipeline.Database.Tests;

/// <summary>
/// The schema of a database as comparable text, read from pg_catalog: extensions, tables and their
/// columns, constraints, indexes, functions, triggers, views and sequences in the public schema.
/// Objects that belong to an extension are covered by the extension's name and version. Daily
/// partitions are reduced to a count per parent, because their names carry the date the migration
/// ran and a snapshot taken after midnight UTC must still compare equal.
/// </summary>
public static class SchemaSnapshot
{
    private const string Query = """
        WITH own_class AS (
            SELECT c.oid, c.relname, c.relkind, c.relispartition
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        ),
        -- Indexes attached to a partition belong to that partition.
        partition_member AS (
            SELECT oid FROM own_class WHERE relispartition
            UNION
            SELECT i.indexrelid FROM pg_index i JOIN own_class t ON t.oid = i.indrelid WHERE t.relispartition
        )
        SELECT 'extension ' || extname || ' ' || extversion FROM pg_extension WHERE extname <> 'plpgsql'
        UNION ALL
        SELECT 'relation ' || c.relname || ' kind=' || c.relkind::text
               || coalesce(' partitioned by ' || pg_get_partkeydef(c.oid), '')
        FROM own_class c
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.oid NOT IN (SELECT oid FROM partition_member)
        UNION ALL
        SELECT 'partitions of ' || p.relname || ': ' || count(*)
        FROM pg_inherits i JOIN own_class p ON p.oid = i.inhparent
        WHERE p.relkind = 'p'
        GROUP BY p.relname
        UNION ALL
        SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
               || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
               || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
               || CASE a.attidentity WHEN 'a' THEN ' identity always' WHEN 'd' THEN ' identity by default' ELSE '' END
               || CASE a.attgenerated WHEN 's' THEN ' generated' ELSE '' END
               || ' #' || a.attnum
        FROM own_class c
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.oid NOT IN (SELECT oid FROM partition_member)
        UNION ALL
        SELECT 'constraint ' || c.relname || '.' || con.conname || ' ' || pg_get_constraintdef(con.oid)
        FROM pg_constraint con JOIN own_class c ON c.oid = con.conrelid
        WHERE c.oid NOT IN (SELECT oid FROM partition_member)
        UNION ALL
        SELECT 'index ' || pg_get_indexdef(c.oid)
        FROM own_class c
        WHERE c.relkind IN ('i', 'I') AND c.oid NOT IN (SELECT oid FROM partition_member)
        UNION ALL
        SELECT 'function ' || p.oid::regprocedure::text || ' md5=' || md5(pg_get_functiondef(p.oid))
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
        UNION ALL
        SELECT 'aggregate ' || p.oid::regprocedure::text
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.prokind = 'a'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
        UNION ALL
        SELECT 'trigger ' || pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN own_class c ON c.oid = t.tgrelid
        WHERE NOT t.tgisinternal AND c.oid NOT IN (SELECT oid FROM partition_member)
        UNION ALL
        SELECT 'view ' || c.relname || ' ' || md5(pg_get_viewdef(c.oid))
        FROM own_class c WHERE c.relkind IN ('v', 'm')
        UNION ALL
        SELECT 'type ' || t.typname || ' ' || t.typtype::text
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
        """;

    public static async Task<IReadOnlyList<string>> TakeAsync(string connectionString)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        return await TakeAsync(conn);
    }

    /// <summary>The snapshot as <paramref name="conn"/> sees it, including its open transaction's changes.</summary>
    public static async Task<IReadOnlyList<string>> TakeAsync(NpgsqlConnection conn)
    {
        await using var cmd = new NpgsqlCommand(Query, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>A readable difference for assertion messages: lines only in one of the two snapshots.</summary>
    public static string Difference(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        var missing = expected.Except(actual).Select(l => "- " + l);
        var extra = actual.Except(expected).Select(l => "+ " + l);
        return string.Join(Environment.NewLine, missing.Concat(extra));
    }
}
