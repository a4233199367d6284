namespace Pipeline.Ingest.Writing;

/// <summary>How a batch's samples reach their table.</summary>
public enum WriteMode
{
    /// <summary>Binary COPY straight into the table: the fast path; fails on any (gpu_id, time) already stored.</summary>
    InsertsOnly,

    /// <summary>COPY into a temporary staging table, then INSERT ... ON CONFLICT DO NOTHING: skips stored duplicates.</summary>
    SkipDuplicates,
}

/// <summary>What writing one table's rows did.</summary>
public readonly record struct TableWriteResult(int Inserted, int DuplicatesSkipped);
