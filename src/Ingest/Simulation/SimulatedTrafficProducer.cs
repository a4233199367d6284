using System.Diagnostics;
using System.Text;
using Confluent.Kafka;

namespace Pipeline.Ingest.Simulation;

/// <param name="SamplesPerSecond">New usage samples per second; 0 sends as fast as the producer takes them.</param>
/// <param name="Duration">Stop after this long; null for no time limit.</param>
/// <param name="TotalSamples">Stop once this many new usage samples are generated (at a message boundary); null for no limit.</param>
public sealed record SimulationLimits(double SamplesPerSecond, TimeSpan? Duration, long? TotalSamples);

/// <summary>Counts of one run. "Expected" counts are what the ingest must store: valid, and not a retry.</summary>
public sealed record SimulationSummary(
    TimeSpan Elapsed,
    long Messages,
    long UsageMessages,
    long HeartbeatMessages,
    long InvalidMessages,
    long RetryMessages,
    long UsageSamplesSent,
    long ExpectedUsageRows,
    long ExpectedHeartbeatRows,
    long ExpectedRejections,
    long Delivered,
    long DeliveryFailures,
    string? FirstDeliveryError = null);

/// <summary>
/// Sends an <see cref="AgentSimulator"/>'s messages to Kafka as the fleet's agents would: keyed by
/// GPU id, with an idempotent producer that lingers to batch, paced to a sample rate.
/// </summary>
public static class SimulatedTrafficProducer
{
    public static ProducerConfig ProducerConfig(string bootstrapServers) => new()
    {
        BootstrapServers = bootstrapServers,
        EnableIdempotence = true,
        LingerMs = 20,
        BatchSize = 1024 * 1024,
        CompressionType = CompressionType.Lz4,
        QueueBufferingMaxKbytes = 256 * 1024,
        ClientId = "pipeline-agent-simulator",
    };

    public static async Task<SimulationSummary> RunAsync(
        AgentSimulator simulator, string bootstrapServers, string usageTopic, string heartbeatTopic, SimulationLimits limits,
        TimeSpan progressInterval, Action<SimulationSummary> onProgress, CancellationToken cancellation)
    {
        long delivered = 0, failed = 0;
        string? firstError = null;
        using var producer = new ProducerBuilder<byte[], byte[]>(ProducerConfig(bootstrapServers)).Build();
        var keys = new Dictionary<string, byte[]>();
        var clock = Stopwatch.StartNew();
        var lastProgress = TimeSpan.Zero;
        long messages = 0, usageMessages = 0, heartbeatMessages = 0, invalid = 0, retries = 0, samplesSent = 0;
        long newSamples = 0, expectedUsage = 0, expectedHeartbeats = 0, expectedRejections = 0;

        void OnDelivery(DeliveryReport<byte[], byte[]> report)
        {
            // librdkafka's delivery thread; the counters are read after Flush or only for progress.
            if (report.Error.IsError)
            {
                Interlocked.Increment(ref failed);
                Interlocked.CompareExchange(ref firstError, report.Error.ToString(), null);
            }
            else Interlocked.Increment(ref delivered);
        }

        SimulationSummary Snapshot() => new(clock.Elapsed, messages, usageMessages, heartbeatMessages, invalid, retries, samplesSent,
            expectedUsage, expectedHeartbeats, expectedRejections, Interlocked.Read(ref delivered), Interlocked.Read(ref failed));

        try
        {
            foreach (var message in simulator.Messages())
            {
                if (limits.TotalSamples is { } total && newSamples >= total) break;
                if (limits.Duration is { } duration && clock.Elapsed >= duration) break;
                cancellation.ThrowIfCancellationRequested();

                if (!keys.TryGetValue(message.Key, out var key)) keys[message.Key] = key = Encoding.UTF8.GetBytes(message.Key);
                var topic = message.Topic == AgentTopic.Usage ? usageTopic : heartbeatTopic;
                Produce(producer, topic, new Message<byte[], byte[]> { Key = key, Value = message.Value }, OnDelivery, cancellation);

                messages++;
                if (message.Topic == AgentTopic.Usage) { usageMessages++; samplesSent += message.SampleSlots; }
                else heartbeatMessages++;
                if (message.IsRetry) retries++;
                else
                {
                    if (message.Topic == AgentTopic.Usage) newSamples += message.SampleSlots;
                    if (message.IsInvalid) invalid++;
                    expectedUsage += message.Usage.Count;
                    expectedHeartbeats += message.Heartbeats.Count;
                    expectedRejections += message.Rejections.Count;
                }

                if (limits.SamplesPerSecond > 0)
                {
                    // Timestamps advance one interval per sample, so keeping to the rate keeps them near the wall clock.
                    var ahead = TimeSpan.FromSeconds(newSamples / limits.SamplesPerSecond) - clock.Elapsed;
                    if (ahead > TimeSpan.FromMilliseconds(2)) await Task.Delay(ahead, cancellation);
                }
                if (clock.Elapsed - lastProgress >= progressInterval)
                {
                    lastProgress = clock.Elapsed;
                    onProgress(Snapshot());
                }
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Stopped by the operator: deliver what was handed over, then report.
        }

        var stillQueued = producer.Flush(TimeSpan.FromSeconds(60));
        return Snapshot() with { DeliveryFailures = Interlocked.Read(ref failed) + stillQueued, FirstDeliveryError = Volatile.Read(ref firstError) };
    }

    private static void Produce(IProducer<byte[], byte[]> producer, string topic, Message<byte[], byte[]> message,
        Action<DeliveryReport<byte[], byte[]>> onDelivery, CancellationToken cancellation)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, message, onDelivery);
                return;
            }
            catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                // The local queue is full: wait for deliveries to make room.
                cancellation.ThrowIfCancellationRequested();
                producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }
}
