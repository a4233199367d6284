using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using Pipeline.Ingest.Batching;
using Pipeline.Ingest.Consuming;
using Pipeline.Ingest.Metrics;
using Pipeline.Ingest.Quarantine;
using Pipeline.Ingest.Resilience;

namespace Pipeline.Ingest.Writing;

/// <summary>
/// One lane's writer: commits the lane's batches one after another (so a partition's offsets only
/// move forward), retrying database failures with the retry policy until the batch commits or
/// the hard stop fires. Nothing is acknowledged to Kafka before its batch commits.
/// </summary>
public sealed class LaneWriter(
    int lane,
    ChannelReader<IngestBatch> fullBatches,
    BatchPool pool,
    BatchCommitter committer,
    RetryPolicy retry,
    IPartitionFeedback feedback,
    Func<CancellationToken, Task> ensurePartitions,
    DeadLetterPublisher? deadLetters,
    IngestMetrics metrics,
    ILogger logger,
    TimeProvider clock)
{
    private const string Operation = "write_batch";

    public async Task RunAsync(CancellationToken hardStop)
    {
        await foreach (var batch in fullBatches.ReadAllAsync(hardStop))
        {
            try
            {
                await CommitAsync(batch, hardStop);
            }
            finally
            {
                pool.Return(batch);
            }
        }
    }

    private async Task CommitAsync(IngestBatch batch, CancellationToken hardStop)
    {
        var started = Stopwatch.GetTimestamp();
        var mode = WriteMode.InsertsOnly;
        var fencedMessages = 0;
        var result = await retry.RunAsync(Operation, async ct =>
        {
            while (true)
            {
                // Fenced claims may come from an earlier attempt of this batch.
                fencedMessages += batch.RemoveMessagesOf(claim => claim.IsFenced);
                if (batch.IsEmpty) return null;
                try
                {
                    var attempt = await committer.CommitAsync(batch, mode, ct);
                    if (!attempt.WasFenced) return attempt;
                    MarkFenced(batch, attempt);
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && mode == WriteMode.InsertsOnly)
                {
                    // A (gpu_id, time) is already stored: an agent retry or a replay. Rerun the batch on the path that skips it.
                    logger.LogDebug("Lane {Lane}: batch meets stored duplicates ({Constraint}); rewriting it with duplicates skipped", lane, ex.ConstraintName);
                    mode = WriteMode.SkipDuplicates;
                }
            }
        }, hardStop, onFailure: async ex =>
        {
            if (ex is PostgresException { SqlState: PostgresErrorCodes.CheckViolation } pg && pg.Message.Contains("no partition", StringComparison.Ordinal))
            {
                // A sample for a day whose partition does not exist (yet): make partitions, then retry.
                try { await ensurePartitions(hardStop); } catch (Exception inner) when (inner is not OperationCanceledException) { }
            }
            // The failure may have broken the connection (a restarted server, a killed backend): start clean.
            await committer.ResetAsync();
        });

        var elapsed = Stopwatch.GetElapsedTime(started);
        if (result is null)
        {
            logger.LogDebug("Lane {Lane}: batch dropped, all {Messages} messages belonged to fenced partitions", lane, fencedMessages);
            return;
        }
        Record(batch, result, elapsed);
        foreach (var (claim, next) in batch.NextOffsets()) feedback.Committed(claim, next);
        deadLetters?.Publish(batch.Quarantined);
    }

    private void MarkFenced(IngestBatch batch, CommitResult attempt)
    {
        var lost = attempt.Fenced.Select(f => (f.Topic, f.Partition)).ToHashSet();
        foreach (var claim in batch.Messages.Select(m => m.Claim).Distinct())
        {
            if (!lost.Contains((claim.Partition.Topic, claim.Partition.Partition.Value))) continue;
            claim.MarkFenced();
            metrics.FencedPartitions.Inc();
            feedback.Fenced(claim);
            logger.LogWarning("Lane {Lane}: {Claim} was claimed by another owner; its uncommitted messages are dropped", lane, claim);
        }
    }

    private void Record(IngestBatch batch, CommitResult result, TimeSpan elapsed)
    {
        metrics.SamplesWritten.WithLabels(IngestMetrics.UsageTable).Inc(result.Usage.Inserted);
        metrics.SamplesWritten.WithLabels(IngestMetrics.HeartbeatTable).Inc(result.Heartbeats.Inserted);
        metrics.DuplicatesSkipped.WithLabels(IngestMetrics.UsageTable).Inc(result.Usage.DuplicatesSkipped);
        metrics.DuplicatesSkipped.WithLabels(IngestMetrics.HeartbeatTable).Inc(result.Heartbeats.DuplicatesSkipped);
        foreach (var entry in batch.Quarantined)
            metrics.SamplesRejected.WithLabels(IngestMetrics.TableOf(entry.Kind), entry.Reason).Inc();
        metrics.BatchRows.Observe(batch.Rows);
        metrics.FlushDuration.Observe(elapsed.TotalSeconds);

        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var m in batch.Messages)
            metrics.EndToEndLatency.Observe(Math.Max(0, (now - m.TimestampUtc).TotalSeconds));

        var duplicates = result.Usage.DuplicatesSkipped + result.Heartbeats.DuplicatesSkipped;
        metrics.Totals.AddBatch(result.Usage.Inserted, result.Heartbeats.Inserted, batch.Quarantined.Count, duplicates);
        logger.LogDebug("Lane {Lane}: committed {Messages} messages: {Usage} usage, {Heartbeats} heartbeats, {Quarantined} quarantined, {Duplicates} duplicates skipped in {Elapsed:0.0} ms",
            lane, batch.Messages.Count, result.Usage.Inserted, result.Heartbeats.Inserted, batch.Quarantined.Count, duplicates, elapsed.TotalMilliseconds);
    }
}
