using Npgsql;
using NpgsqlTypes;
using Pipeline.Ingest.Decoding;

namespace Pipeline.Ingest.Writing;

/// <summary>gpu_usage rows by binary COPY.</summary>
public sealed class UsageBatchWriter : CopyBatchWriter<UsageSample>
{
    protected override string Table => "gpu_usage";

    protected override string Columns =>
        "time, gpu_id, provider_id, utilization_pct, memory_used_mib, memory_total_mib, temperature_c, power_w, sm_clock_mhz, mem_clock_mhz, ecc_errors";

    protected override (string GpuId, DateTimeOffset Time) KeyOf(in UsageSample row) => (row.GpuId, row.Time);

    protected override void WriteRow(NpgsqlBinaryImporter importer, in UsageSample row)
    {
        importer.Write(row.Time.UtcDateTime, NpgsqlDbType.TimestampTz);
        importer.Write(row.GpuId, NpgsqlDbType.Text);
        importer.Write(row.ProviderId, NpgsqlDbType.Text);
        importer.Write(row.UtilizationPct, NpgsqlDbType.Real);
        importer.Write(row.MemoryUsedMib, NpgsqlDbType.Bigint);
        importer.Write(row.MemoryTotalMib, NpgsqlDbType.Bigint);
        importer.Write(row.TemperatureC, NpgsqlDbType.Real);
        importer.Write(row.PowerW, NpgsqlDbType.Real);
        if (row.SmClockMhz is { } sm) importer.Write(sm, NpgsqlDbType.Integer); else importer.WriteNull();
        if (row.MemClockMhz is { } mem) importer.Write(mem, NpgsqlDbType.Integer); else importer.WriteNull();
        if (row.EccErrors is { } ecc) importer.Write(ecc, NpgsqlDbType.Bigint); else importer.WriteNull();
    }
}
