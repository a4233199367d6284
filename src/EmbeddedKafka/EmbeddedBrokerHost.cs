using System.Text;
using Microsoft.Extensions.Logging;

namespace Pipeline.EmbeddedKafka;

/// <summary>
/// The embedded default's Kafka: runs a <see cref="MockKafkaCluster"/> with the pipeline's topics,
/// publishes its address in &lt;StateDirectory&gt;/bootstrap.txt for the other commands and
/// scripts, and watches retention until cancelled. bootstrap.txt exists exactly while the broker
/// serves: it is written whole (temp file + rename, so a reader never sees half an address) after
/// the topics exist, and deleted first on shutdown.
/// </summary>
public static class EmbeddedBrokerHost
{
    public static async Task RunAsync(BrokerOptions options, ILoggerFactory loggers, CancellationToken cancellation)
    {
        var log = loggers.CreateLogger(typeof(EmbeddedBrokerHost).FullName!);
        Directory.CreateDirectory(options.StateDirectory);
        using var stateLock = LockStateDirectory(options.StateDirectory);

        using var cluster = new MockKafkaCluster(options.Brokers);
        foreach (var topic in options.Topics)
            cluster.CreateTopic(topic.Name, topic.Partitions);

        using var watch = new RetentionWatch(cluster.BootstrapServers, options.Topics, options.Retention, loggers.CreateLogger<RetentionWatch>());
        WriteAtomically(options.BootstrapFile, cluster.BootstrapServers + "\n");
        try
        {
            log.LogInformation(
                "embedded Kafka broker listening at {BootstrapServers} ({Brokers} broker(s)); topics {Topics}; address written to {BootstrapFile}; watching groups {Groups}",
                cluster.BootstrapServers, options.Brokers,
                string.Join(", ", options.Topics.Select(t => $"{t.Name}:{t.Partitions}")),
                options.BootstrapFile, string.Join(", ", options.Retention.WatchGroups));
            await watch.RunAsync(cancellation);
        }
        finally
        {
            File.Delete(options.BootstrapFile);
            log.LogInformation("embedded Kafka broker stopping; removed {BootstrapFile}", options.BootstrapFile);
        }
    }

    /// <summary>
    /// One broker per state directory: a second one would overwrite the first one's address.
    /// .NET takes an flock for FileShare.None on Unix; the kernel drops it when the process dies,
    /// so a killed broker never leaves a stale lock behind.
    /// </summary>
    private static FileStream LockStateDirectory(string stateDirectory)
    {
        var path = Path.Combine(stateDirectory, "broker.lock");
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new StateDirectoryInUseException(stateDirectory, ex);
        }
    }

    private static void WriteAtomically(string path, string content)
    {
        var temp = path + "." + Environment.ProcessId + ".tmp";
        File.WriteAllText(temp, content, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>Another embedded broker already runs with this state directory.</summary>
public sealed class StateDirectoryInUseException(string stateDirectory, Exception inner)
    : Exception($"another embedded broker already uses {stateDirectory} (its broker.lock is held); stop it or pick another Broker:StateDirectory", inner);
