using System.Globalization;
using Microsoft.Extensions.Configuration;
using Pipeline.Hosting;
using Pipeline.Ingest.Simulation;

namespace Pipeline.Cli.Commands;

/// <summary>Plays a fleet of GPU agents against Kafka, for the demo, benchmarks and trying the ingest by hand.</summary>
public sealed class SimulateAgentsCommand : ICliCommand
{
    public IReadOnlyList<string> Path => ["agents", "simulate"];
    public string Summary => "send synthetic GPU usage samples and heartbeats to Kafka, as a fleet of agents would";
    public string Usage => """
        --Kafka:BootstrapServers=host:port     required
        --Ingest:UsageTopic=gpu.usage.v1       --Ingest:HeartbeatTopic=gpu.heartbeat.v1
        --Simulate:Gpus=100                    GPUs in the fleet (spread over Simulate:Providers=4)
        --Simulate:SamplesPerSecond=10000      usage samples per second over the fleet; 0 = as fast as possible
        --Simulate:Duration=60s                stop after this long (the default when no TotalSamples is given)
        --Simulate:TotalSamples=N              stop after N usage samples
        --Simulate:SamplesPerMessage=10        samples per usage message (1 sends bare objects)
        --Simulate:SampleInterval=1s           time between one GPU's samples when SamplesPerSecond=0
        --Simulate:HeartbeatInterval=10s       sample time between one GPU's heartbeats
        --Simulate:InvalidFraction=0           share of messages broken on purpose (each a rejection rule)
        --Simulate:DuplicateFraction=0         share of messages that are agent retries (exact resends)
        --Simulate:Seed=1                      same seed, same values
        --Simulate:ProgressInterval=5s         how often progress is printed
        """;

    public async Task<int> RunAsync(CliContext context, CancellationToken cancellation)
    {
        var config = context.Configuration;
        var bootstrap = Settings.RequiredString(config, "Kafka:BootstrapServers");
        var usageTopic = Settings.OptionalString(config, "Ingest:UsageTopic", "gpu.usage.v1");
        var heartbeatTopic = Settings.OptionalString(config, "Ingest:HeartbeatTopic", "gpu.heartbeat.v1");
        var gpus = Settings.Int(config, "Simulate:Gpus", 100, 1, 1_000_000);
        var providers = Settings.Int(config, "Simulate:Providers", Math.Min(4, gpus), 1, gpus);
        var rate = Settings.Int(config, "Simulate:SamplesPerSecond", 10_000, 0, 50_000_000);
        var perMessage = Settings.Int(config, "Simulate:SamplesPerMessage", 10, 1, 10_000);
        long? total = config["Simulate:TotalSamples"] is { Length: > 0 } ? Settings.Long(config, "Simulate:TotalSamples", 0, 1, long.MaxValue) : null;
        TimeSpan? duration = config["Simulate:Duration"] is { Length: > 0 } || total is null
            ? Settings.Duration(config, "Simulate:Duration", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(30))
            : null;
        var heartbeatInterval = Settings.Duration(config, "Simulate:HeartbeatInterval", TimeSpan.FromSeconds(10), TimeSpan.Zero, TimeSpan.FromDays(1));
        var invalid = Fraction(config, "Simulate:InvalidFraction", 1.0);
        var duplicates = Fraction(config, "Simulate:DuplicateFraction", 0.9);
        var seed = Settings.Int(config, "Simulate:Seed", 1, int.MinValue, int.MaxValue);
        var progressEvery = Settings.Duration(config, "Simulate:ProgressInterval", TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));

        // Paced: one GPU samples every gpus/rate seconds and the first batch is already due.
        // Unpaced: timestamps end about now, so none is in the future however fast the producer goes.
        var now = DateTimeOffset.UtcNow;
        TimeSpan interval;
        DateTimeOffset start;
        if (rate > 0)
        {
            interval = TimeSpan.FromMicroseconds(Math.Max(1, Math.Round(gpus * 1_000_000.0 / rate)));
            start = now - interval * perMessage;
        }
        else
        {
            if (total is null)
                throw new InvalidSettingException("Simulate:TotalSamples", "is required when Simulate:SamplesPerSecond=0 (as fast as possible)");
            interval = Settings.Duration(config, "Simulate:SampleInterval", TimeSpan.FromSeconds(1), TimeSpan.FromMicroseconds(1), TimeSpan.FromHours(1));
            start = now - interval * (total.Value / gpus + perMessage);
        }
        start = new DateTimeOffset(start.UtcTicks - start.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);

        var simulator = new AgentSimulator(new SimulationPlan
        {
            Gpus = gpus,
            Providers = providers,
            SamplesPerMessage = perMessage,
            SampleInterval = interval,
            Start = start,
            HeartbeatInterval = heartbeatInterval,
            InvalidFraction = invalid,
            DuplicateFraction = duplicates,
            Seed = seed,
        });

        context.Out.WriteLine(
            $"agents simulate: {gpus} GPUs over {providers} providers -> {bootstrap} ({usageTopic}, {heartbeatTopic}); "
            + $"{(rate > 0 ? $"{rate} samples/s" : "unpaced")}, {perMessage} per message, "
            + $"{(duration is { } d ? $"for {d.TotalSeconds:0.###} s" : "")}{(duration is not null && total is not null ? " or " : "")}{(total is { } t ? $"{t} samples" : "")}");
        var summary = await SimulatedTrafficProducer.RunAsync(simulator, bootstrap, usageTopic, heartbeatTopic,
            new SimulationLimits(rate, duration, total), progressEvery, p => context.Out.WriteLine("agents simulate: " + Describe(p)), cancellation);

        context.Out.WriteLine($"agents simulate: done. {Describe(summary)}");
        context.Out.WriteLine(
            $"agents simulate: the ingest should store {summary.ExpectedUsageRows} usage rows and {summary.ExpectedHeartbeatRows} heartbeat rows "
            + $"and quarantine {summary.ExpectedRejections} rejections; {summary.Delivered} messages delivered, {summary.DeliveryFailures} failed"
            + (summary.FirstDeliveryError is { } error ? $" (first error: {error})" : ""));
        return summary.DeliveryFailures == 0 ? 0 : 1;
    }

    private static string Describe(SimulationSummary s) =>
        $"{s.Elapsed.TotalSeconds:0.0} s: sent {s.Messages} messages ({s.UsageSamplesSent} usage samples in {s.UsageMessages}, "
        + $"{s.HeartbeatMessages} heartbeats), of which {s.InvalidMessages} invalid and {s.RetryMessages} duplicates; "
        + $"{(s.Elapsed.TotalSeconds > 0 ? s.UsageSamplesSent / s.Elapsed.TotalSeconds : 0):0} samples/s";

    private static double Fraction(IConfiguration config, string key, double max)
    {
        var raw = config[key];
        if (string.IsNullOrWhiteSpace(raw)) return 0;
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            throw new InvalidSettingException(key, $"'{raw}' is not a number");
        if (value < 0 || value > max)
            throw new InvalidSettingException(key, $"{raw} is outside the allowed range 0..{max}");
        return value;
    }
}
