using System.Threading.Channels;
using Pipeline.Ingest.Consuming;

namespace Pipeline.Ingest.Batching;

/// <summary>
/// One lane's batcher: takes messages from the lane channel, decodes them into a batch, and hands
/// the batch to the lane's writer when it holds <see cref="IngestOptions.BatchMaxRows"/> rows, when
/// its first message is <see cref="IngestOptions.BatchMaxAge"/> old, or when the channel completes
/// (shutdown). Batches come from a fixed pool of two per lane, so one fills while the other is
/// written, and a slow database stops the batcher rather than growing memory.
/// </summary>
public sealed class Batcher(
    ChannelReader<ConsumedMessage> input,
    BufferBudget budget,
    BatchAssembler assembler,
    BatchPool pool,
    ChannelWriter<IngestBatch> fullBatches,
    int maxRows,
    TimeSpan maxAge,
    TimeProvider clock)
{
    /// <summary>Quarantined raw values a batch may reference before it is flushed early (a burst of huge bad messages).</summary>
    public const long MaxQuarantinedBytes = 8L * 1024 * 1024;

    /// <summary>Runs until the input channel completes and the last batch is handed over; then completes the writer's input.</summary>
    public async Task RunAsync(CancellationToken hardStop)
    {
        try
        {
            while (await input.WaitToReadAsync(hardStop))
            {
                var batch = await pool.RentAsync(hardStop);
                await FillAsync(batch, hardStop);
                if (batch.IsEmpty)
                    pool.Return(batch);
                else
                    await fullBatches.WriteAsync(batch, hardStop);
            }
        }
        finally
        {
            fullBatches.TryComplete();
        }
    }

    private async Task FillAsync(IngestBatch batch, CancellationToken hardStop)
    {
        long? deadline = null;
        while (true)
        {
            while (!IsFull(batch) && input.TryRead(out var message))
            {
                budget.Release(message.BufferedBytes);
                // A revoked or fenced partition's messages belong to its next owner now.
                if (!message.Claim.IsCurrent) continue;
                assembler.Add(batch, message);
                deadline ??= clock.GetTimestamp() + (long)(maxAge.TotalSeconds * clock.TimestampFrequency);
            }
            if (IsFull(batch)) return;

            if (deadline is null)
            {
                // Only revoked messages so far: wait for real work without a clock running.
                if (!await input.WaitToReadAsync(hardStop)) return;
                continue;
            }

            var remaining = clock.GetElapsedTime(clock.GetTimestamp(), deadline.Value);
            if (remaining <= TimeSpan.Zero) return;
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(hardStop);
            timer.CancelAfter(remaining);
            try
            {
                if (!await input.WaitToReadAsync(timer.Token)) return;
            }
            catch (OperationCanceledException) when (!hardStop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private bool IsFull(IngestBatch batch) =>
        batch.Rows >= maxRows || batch.Messages.Count >= maxRows || batch.QuarantinedBytes >= MaxQuarantinedBytes;
}
