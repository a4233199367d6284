using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Pipeline.Ingest.Metrics;

namespace Pipeline.Ingest.Quarantine;

/// <summary>
/// Optionally copies each quarantined message (once, however many of its elements failed) to a
/// dead-letter topic after its quarantine rows committed. Best effort: the quarantine table is the
/// record; a failed produce is counted and logged, never retried into a duplicate.
/// </summary>
public sealed class DeadLetterPublisher : IDisposable
{
    private readonly IProducer<byte[]?, byte[]?> _producer;
    private readonly string _topic;
    private readonly IngestMetrics _metrics;
    private readonly ILogger _logger;

    public DeadLetterPublisher(ProducerConfig config, string topic, IngestMetrics metrics, ILogger logger)
    {
        _topic = topic;
        _metrics = metrics;
        _logger = logger;
        _producer = new ProducerBuilder<byte[]?, byte[]?>(config)
            .SetErrorHandler((_, e) => logger.LogWarning("Dead-letter producer: {Reason}", e.Reason))
            .Build();
    }

    public void Publish(IReadOnlyList<QuarantineEntry> entries)
    {
        (string, int, long)? last = null;
        foreach (var e in entries)
        {
            // Entries of one message are adjacent; the message goes out once, with its first reason.
            if (last == (e.Topic, e.Partition, e.Offset)) continue;
            last = (e.Topic, e.Partition, e.Offset);
            var message = new Message<byte[]?, byte[]?>
            {
                Key = e.Key,
                Value = e.RawValue,
                Headers = new Headers
                {
                    { "source_topic", Encoding.UTF8.GetBytes(e.Topic) },
                    { "source_partition", Encoding.UTF8.GetBytes(e.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
                    { "source_offset", Encoding.UTF8.GetBytes(e.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
                    { "reason", Encoding.UTF8.GetBytes(e.Reason) },
                    { "detail", Encoding.UTF8.GetBytes(e.Detail) },
                },
            };
            try
            {
                _producer.Produce(_topic, message, report =>
                {
                    if (report.Error.IsError) Failed(report.Error.Reason);
                });
            }
            catch (KafkaException ex)
            {
                Failed(ex.Error.Reason);
            }
        }
    }

    private void Failed(string reason)
    {
        _metrics.KafkaErrors.WithLabels("dead_letter").Inc();
        _logger.LogWarning("Dead-letter copy to {Topic} failed: {Reason} (the quarantine row is stored)", _topic, reason);
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }
}
