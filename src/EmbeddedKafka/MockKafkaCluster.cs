using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Pipeline.EmbeddedKafka;

/// <summary>
/// librdkafka's built-in mock cluster: a real Kafka-protocol broker (produce, fetch, consumer
/// groups including KIP-848, offset commit) that lives inside this process for as long as this
/// object does. Clients in any process reach it at <see cref="BootstrapServers"/>.
/// Limits worth knowing: topics are created here (there is no admin protocol), each partition
/// keeps only about 5 MiB / 100k batches before evicting the oldest silently, and all data is
/// lost when the process ends.
/// </summary>
public sealed class MockKafkaCluster : IDisposable
{
    private readonly IProducer<byte[], byte[]> _owner;
    private readonly IntPtr _cluster;

    public MockKafkaCluster(int brokerCount = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokerCount, 1);
        // The cluster belongs to this otherwise idle client handle and dies with it.
        var config = new ProducerConfig();
        config.Set("test.mock.num.brokers", brokerCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _owner = new ProducerBuilder<byte[], byte[]>(config).Build();
        Native.EnsureResolver();
        _cluster = Native.rd_kafka_handle_mock_cluster(RawHandle(_owner));
        if (_cluster == IntPtr.Zero) throw new InvalidOperationException("librdkafka did not create a mock cluster");
        BootstrapServers = Marshal.PtrToStringUTF8(Native.rd_kafka_mock_cluster_bootstraps(_cluster))
            ?? throw new InvalidOperationException("mock cluster has no bootstrap address");
    }

    /// <summary>127.0.0.1:port[,127.0.0.1:port...]</summary>
    public string BootstrapServers { get; }

    public void CreateTopic(string name, int partitions, int replicationFactor = 1)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        var err = (ErrorCode)Native.rd_kafka_mock_topic_create(_cluster, name, partitions, replicationFactor);
        if (err != ErrorCode.NoError && err != ErrorCode.TopicAlreadyExists)
            throw new KafkaException(err);
    }

    /// <summary>
    /// Closes the broker's connections and refuses new ones until <see cref="SetBrokerUp"/>: an
    /// outage as clients see it. Partition leadership does not move. Broker ids start at 1.
    /// </summary>
    public void SetBrokerDown(int brokerId) =>
        ThrowOnError(Native.rd_kafka_mock_broker_set_down(_cluster, brokerId));

    /// <summary>Lets the broker accept connections again after <see cref="SetBrokerDown"/>.</summary>
    public void SetBrokerUp(int brokerId) =>
        ThrowOnError(Native.rd_kafka_mock_broker_set_up(_cluster, brokerId));

    public void Dispose() => _owner.Dispose();

    private static void ThrowOnError(int err)
    {
        if ((ErrorCode)err != ErrorCode.NoError) throw new KafkaException((ErrorCode)err);
    }

    private static IntPtr RawHandle(IClient client)
    {
        // Confluent.Kafka keeps the rd_kafka_t* in the internal Handle.LibrdkafkaHandle (a SafeHandle).
        var prop = typeof(Handle).GetProperty("LibrdkafkaHandle", BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("Confluent.Kafka no longer exposes Handle.LibrdkafkaHandle");
        var safe = (SafeHandle)prop.GetValue(client.Handle)!;
        return safe.DangerousGetHandle();
    }

    private static class Native
    {
        private const string Library = "librdkafka";
        private static int _resolverSet;

        /// <summary>
        /// P/Invoke must bind to the very librdkafka that Confluent.Kafka loaded (it picks one of
        /// several builds at run time), so "librdkafka" resolves to the file already mapped here.
        /// </summary>
        public static void EnsureResolver()
        {
            if (Interlocked.Exchange(ref _resolverSet, 1) == 1) return;
            NativeLibrary.SetDllImportResolver(typeof(Native).Assembly, (name, _, _) =>
                name == Library ? NativeLibrary.Load(LoadedPath()) : IntPtr.Zero);
        }

        private static string LoadedPath() =>
            File.ReadLines("/proc/self/maps")
                .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length >= 6 && Path.GetFileName(f[5]).Contains("librdkafka", StringComparison.Ordinal))
                .Select(f => f[5])
                .FirstOrDefault()
            ?? throw new InvalidOperationException("librdkafka is not loaded in this process");

        [DllImport(Library)] public static extern IntPtr rd_kafka_handle_mock_cluster(IntPtr rk);
        [DllImport(Library)] public static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);
        [DllImport(Library)] public static extern int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);
        [DllImport(Library)] public static extern int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);
        [DllImport(Library)] public static extern int rd_kafka_mock_topic_create(IntPtr mcluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partitionCount, int replicationFactor);
    }
}
