using System.Text.RegularExpressions;

namespace Pipeline.EmbeddedKafka.Tests;

/// <summary>The real `pipeline broker` process, reached only through kcat from other processes.</summary>
public class BrokerCommandTests
{
    [Fact]
    public async Task Broker_serves_kcat_produce_and_consume_and_reports_its_address()
    {
        await using var broker = BrokerProcess.Start();
        var bootstrap = await broker.WaitForBootstrapAsync();

        Assert.Matches(@"^127\.0\.0\.1:\d+$", bootstrap);
        await broker.WaitForLineAsync(l => l.Contains($"listening at {bootstrap}", StringComparison.Ordinal));

        string[] toPartition7 = ["gpu-1:usage-a", "gpu-1:usage-b", "gpu-2:usage-c"];
        string[] toPartition0 = ["gpu-9:usage-z"];
        await Kcat.ProduceAsync(bootstrap, "gpu.usage.v1", 7, toPartition7);
        await Kcat.ProduceAsync(bootstrap, "gpu.usage.v1", 0, toPartition0);

        var consumed = await Kcat.RunAsync(null, "-C", "-b", bootstrap, "-t", "gpu.usage.v1", "-o", "beginning", "-e", "-q", "-f", "%p %k %s\n");
        Assert.Equal(0, consumed.ExitCode);
        var lines = consumed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // Partitions interleave freely; within a partition the order is the produced order.
        Assert.Equal(["gpu-1 usage-a", "gpu-1 usage-b", "gpu-2 usage-c"], lines.Where(l => l.StartsWith("7 ")).Select(l => l[2..]));
        Assert.Equal(["gpu-9 usage-z"], lines.Where(l => l.StartsWith("0 ")).Select(l => l[2..]));
        Assert.Equal(4, lines.Length);
    }

    [Fact]
    public async Task Broker_creates_the_configured_topics_with_the_configured_partition_counts()
    {
        await using var broker = BrokerProcess.Start(null, "--Broker:Partitions=12", "--Broker:ExtraTopics=gpu.usage.dlq:3");
        var bootstrap = await broker.WaitForBootstrapAsync();

        var metadata = await Kcat.RunAsync(null, "-L", "-b", bootstrap);
        Assert.Equal(0, metadata.ExitCode);
        var topics = Regex.Matches(metadata.Stdout, "topic \"(?<name>[^\"]+)\" with (?<n>\\d+) partitions")
            .ToDictionary(m => m.Groups["name"].Value, m => int.Parse(m.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(new Dictionary<string, int> { ["gpu.usage.v1"] = 12, ["gpu.heartbeat.v1"] = 12, ["gpu.usage.dlq"] = 3 }, topics);
    }

    [Fact]
    public async Task Sigterm_stops_the_broker_with_exit_code_0_and_removes_its_bootstrap_file()
    {
        await using var broker = BrokerProcess.Start();
        await broker.WaitForBootstrapAsync();

        broker.SendSigterm();

        Assert.Equal(0, await broker.WaitForExitAsync());
        Assert.False(File.Exists(broker.BootstrapFile), "bootstrap.txt is still there after shutdown");
    }

    [Fact]
    public async Task Unread_backlog_near_the_retention_ceiling_is_logged_as_a_warning()
    {
        // 1% of the 5 MiB ceiling is about 52 KB; 800 messages of about 100 bytes pass it.
        // A short summary interval repeats the warning on every check, so the line after the last produce shows up.
        await using var broker = BrokerProcess.Start(null, "--Broker:RetentionWarnPercent=1",
            "--Broker:RetentionCheckInterval=200ms", "--Broker:RetentionSummaryInterval=200ms");
        var bootstrap = await broker.WaitForBootstrapAsync();

        await Kcat.ProduceAsync(bootstrap, "gpu.usage.v1", 5,
            Enumerable.Range(0, 800).Select(i => $"gpu-{i % 10}:{new string('x', 90)}{i:D6}"));

        var warning = await broker.WaitForLineAsync(l => l.Contains("RETENTION CEILING NEAR: gpu.usage.v1 partition 5:", StringComparison.Ordinal)
            && l.Contains("consumer group pipeline-ingest has 800 unread messages", StringComparison.Ordinal));
        Assert.Contains(" warn: ", warning);
        Assert.DoesNotContain(broker.Output, l => l.Contains("RETENTION CEILING NEAR", StringComparison.Ordinal) && !l.Contains("partition 5:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Invalid_partition_count_stops_start_up_naming_the_setting()
    {
        await using var broker = BrokerProcess.Start(null, "--Broker:Partitions=0");

        var exitCode = await broker.WaitForExitAsync();

        Assert.NotEqual(0, exitCode);
        Assert.Contains(broker.Output, l => l.Contains("Broker:Partitions", StringComparison.Ordinal));
        Assert.False(File.Exists(broker.BootstrapFile));
    }

    [Fact]
    public async Task Second_broker_on_the_same_state_directory_is_refused_and_the_first_keeps_serving()
    {
        await using var first = BrokerProcess.Start();
        var bootstrap = await first.WaitForBootstrapAsync();

        await using var second = BrokerProcess.Start(first.StateDirectory);
        var exitCode = await second.WaitForExitAsync();

        Assert.Equal(1, exitCode);
        Assert.Contains(second.Output, l => l.Contains("another embedded broker already uses", StringComparison.Ordinal));
        Assert.Equal(bootstrap, (await File.ReadAllTextAsync(first.BootstrapFile)).Trim());
    }
}
