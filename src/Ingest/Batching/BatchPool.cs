using System.Threading.Channels;

namespace Pipeline.Ingest.Batching;

/// <summary>
/// A lane's fixed set of batch objects. The batcher rents one to fill and waits when none is free;
/// the writer returns each batch once it is committed (or dropped). With two per lane, one fills
/// while the other is written: the pool size is the lane's memory bound for decoded rows.
/// </summary>
public sealed class BatchPool
{
    private readonly Channel<IngestBatch> _free = Channel.CreateUnbounded<IngestBatch>();

    public BatchPool(int size)
    {
        for (var i = 0; i < size; i++) _free.Writer.TryWrite(new IngestBatch());
    }

    public ValueTask<IngestBatch> RentAsync(CancellationToken cancellation) => _free.Reader.ReadAsync(cancellation);

    public void Return(IngestBatch batch)
    {
        batch.Clear();
        _free.Writer.TryWrite(batch);
    }
}
