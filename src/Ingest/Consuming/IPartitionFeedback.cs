namespace Pipeline.Ingest.Consuming;

/// <summary>
/// What writers tell the consumer about partitions. Called from writer threads; the consumer
/// queues the news and acts on it on its own thread, the only one that touches the Kafka client.
/// </summary>
public interface IPartitionFeedback
{
    /// <summary>A batch covering the partition committed; Kafka may now be told (for lag tooling).</summary>
    void Committed(PartitionClaim claim, long nextOffset);

    /// <summary>Another owner claimed the partition; stop fetching it until the group reassigns it.</summary>
    void Fenced(PartitionClaim claim);
}
