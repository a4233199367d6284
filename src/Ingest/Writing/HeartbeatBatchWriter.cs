using Npgsql;
using NpgsqlTypes;
using Pipeline.Ingest.Decoding;

namespace Pipeline.Ingest.Writing;

/// <summary>gpu_heartbeat rows by binary COPY.</summary>
public sealed class HeartbeatBatchWriter : CopyBatchWriter<HeartbeatSample>
{
    protected override string Table => "gpu_heartbeat";

    protected override string Columns => "time, gpu_id, provider_id, status, agent_version, driver_version, uptime_s";

    protected override (string GpuId, DateTimeOffset Time) KeyOf(in HeartbeatSample row) => (row.GpuId, row.Time);

    protected override void WriteRow(NpgsqlBinaryImporter importer, in HeartbeatSample row)
    {
        importer.Write(row.Time.UtcDateTime, NpgsqlDbType.TimestampTz);
        importer.Write(row.GpuId, NpgsqlDbType.Text);
        importer.Write(row.ProviderId, NpgsqlDbType.Text);
        importer.Write(row.Status, NpgsqlDbType.Text);
        importer.Write(row.AgentVersion, NpgsqlDbType.Text);
        importer.Write(row.DriverVersion, NpgsqlDbType.Text);
        if (row.UptimeS is { } uptime) importer.Write(uptime, NpgsqlDbType.Bigint); else importer.WriteNull();
    }
}
