namespace Pipeline.Ingest.Batching;

/// <summary>
/// The bound on what sits between the consumer and the writers, in messages and in bytes, across
/// all lanes. The consumer thread reserves before it hands a message on and pauses consumption
/// when a reservation fails; batchers release as they take messages out. One message larger than
/// the whole byte budget is still admitted when nothing else is buffered, so it cannot wedge the
/// partition.
/// </summary>
public sealed class BufferBudget(int maxMessages, long maxBytes)
{
    private long _messages;
    private long _bytes;

    public int MaxMessages => maxMessages;
    public long MaxBytes => maxBytes;
    public long Messages => Interlocked.Read(ref _messages);
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Called only by the consumer thread, so check-then-add cannot overshoot; releases only lower the counts.</summary>
    public bool TryReserve(int bytes)
    {
        var heldBytes = Interlocked.Read(ref _bytes);
        if (Interlocked.Read(ref _messages) >= maxMessages) return false;
        if (heldBytes > 0 && heldBytes + bytes > maxBytes) return false;
        Interlocked.Increment(ref _messages);
        Interlocked.Add(ref _bytes, bytes);
        return true;
    }

    public void Release(int bytes)
    {
        Interlocked.Decrement(ref _messages);
        Interlocked.Add(ref _bytes, -bytes);
    }

    /// <summary>Consumption resumes only once the buffer has drained to half, so it does not flap at the edge.</summary>
    public bool IsBelowResumeMark => Messages <= maxMessages / 2 && Bytes <= maxBytes / 2;
}
