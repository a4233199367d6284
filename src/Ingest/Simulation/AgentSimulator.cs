using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Pipeline.Ingest.Decoding;

namespace Pipeline.Ingest.Simulation;

/// <summary>
/// Generates the traffic of a fleet of GPU agents: usage messages (arrays of samples, keyed by GPU
/// id) and heartbeats, with realistic drifting values, the timestamp formats agents use, and on
/// request broken messages (one per rejection rule) and agent retries. Deterministic for a given
/// <see cref="SimulationPlan"/>, and each message says what decoding it must yield, so tests and
/// benchmarks can compute expected row counts and column sums.
/// </summary>
public sealed class AgentSimulator
{
    private const int RecentForRetries = 64;

    private static readonly GpuModel[] Models =
    [
        new("H100 SXM5 80GB", 81559, 70, 700, 1980, 2619, true, "550.54.15"),
        new("A100 SXM4 80GB", 81920, 55, 400, 1410, 1593, true, "535.161.08"),
        new("L40S", 46068, 35, 350, 2520, 9001, true, "550.90.07"),
        new("RTX 4090", 24564, 20, 450, 2520, 10501, false, "550.120"),
        new("A10", 23028, 15, 150, 1695, 6251, true, "535.183.01"),
    ];

    private static readonly TimeSpan[] DataCentreOffsets =
        [TimeSpan.FromHours(1), TimeSpan.FromHours(-5), new TimeSpan(5, 30, 0), TimeSpan.FromHours(9), TimeSpan.FromHours(-8)];

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    private readonly SimulationPlan _plan;

    public AgentSimulator(SimulationPlan plan)
    {
        plan.Validate();
        _plan = plan;
    }

    public SimulationPlan Plan => _plan;

    /// <summary>The fleet's GPU ids, in the order their usage messages come round.</summary>
    public IReadOnlyList<string> GpuIds => CreateFleet(new Random(_plan.Seed)).Select(g => g.Id).ToList();

    /// <summary>An endless, deterministic stream of messages; take as many as needed.</summary>
    public IEnumerable<SimulatedMessage> Messages()
    {
        var random = new Random(_plan.Seed);
        var fleet = CreateFleet(random);
        var buffer = new ArrayBufferWriter<byte>(4096);
        using var writer = new Utf8JsonWriter(buffer, WriterOptions);
        var recent = new List<SimulatedMessage>(RecentForRetries);
        var recentNext = 0;
        var gpuIndex = 0;
        var epochMsExact = _plan.Start.UtcTicks % TimeSpan.TicksPerMillisecond == 0 && _plan.SampleInterval.Ticks % TimeSpan.TicksPerMillisecond == 0;

        while (true)
        {
            if (recent.Count > 0 && random.NextDouble() < _plan.DuplicateFraction)
            {
                // An agent that timed out waiting for the ack sends the same batch again.
                yield return recent[random.Next(recent.Count)] with { IsRetry = true };
                continue;
            }

            var gpu = fleet[gpuIndex];
            gpuIndex = (gpuIndex + 1) % fleet.Length;
            var usage = NextUsageMessage(gpu, random, writer, buffer, epochMsExact);
            Remember(usage);
            yield return usage;

            var lastSampleTime = SampleTime(gpu.NextSample - 1);
            if (gpu.LastHeartbeat is null || lastSampleTime - gpu.LastHeartbeat >= _plan.HeartbeatInterval)
            {
                gpu.LastHeartbeat = lastSampleTime;
                var heartbeat = NextHeartbeatMessage(gpu, lastSampleTime, random, writer, buffer, epochMsExact);
                Remember(heartbeat);
                yield return heartbeat;
            }
        }

        void Remember(SimulatedMessage message)
        {
            if (message.IsInvalid) return;
            if (recent.Count < RecentForRetries) recent.Add(message);
            else recent[recentNext++ % RecentForRetries] = message;
        }
    }

    private DateTimeOffset SampleTime(long index) => _plan.Start + _plan.SampleInterval * index;

    private enum UsageFault
    {
        None,
        UtilizationOver100,
        MissingMemoryTotal,
        NotANumberTemperature,
        MemoryUsedOverTotal,
        FarFutureTimestamp,
        AncientTimestamp,
        GpuIdAsNumber,
        NegativeMemory,
    }

    private enum MessageFault
    {
        None,
        Truncated,
        InvalidUtf8,
        Empty,
        Scalar,
    }

    private static readonly (UsageFault Fault, string Reason)[] UsageFaults =
    [
        (UsageFault.UtilizationOver100, RejectionReason.OutOfRange),
        (UsageFault.MissingMemoryTotal, RejectionReason.MissingField),
        (UsageFault.NotANumberTemperature, RejectionReason.NotFinite),
        (UsageFault.MemoryUsedOverTotal, RejectionReason.MemoryUsedExceedsTotal),
        (UsageFault.FarFutureTimestamp, RejectionReason.TimestampInFuture),
        (UsageFault.AncientTimestamp, RejectionReason.TimestampTooOld),
        (UsageFault.GpuIdAsNumber, RejectionReason.WrongType),
        (UsageFault.NegativeMemory, RejectionReason.OutOfRange),
    ];

    private static readonly (MessageFault Fault, string Reason)[] MessageFaults =
    [
        (MessageFault.Truncated, RejectionReason.MalformedJson),
        (MessageFault.InvalidUtf8, RejectionReason.InvalidUtf8),
        (MessageFault.Empty, RejectionReason.EmptyValue),
        (MessageFault.Scalar, RejectionReason.NotAnObject),
    ];

    private SimulatedMessage NextUsageMessage(SimulatedGpu gpu, Random random, Utf8JsonWriter writer, ArrayBufferWriter<byte> buffer, bool epochMsExact)
    {
        var count = _plan.SamplesPerMessage;
        var (elementFault, messageFault, faultIndex, faultReason) = (UsageFault.None, MessageFault.None, -1, "");
        if (random.NextDouble() < _plan.InvalidFraction)
        {
            var pick = random.Next(UsageFaults.Length + MessageFaults.Length);
            if (pick < UsageFaults.Length) (elementFault, faultReason, faultIndex) = (UsageFaults[pick].Fault, UsageFaults[pick].Reason, random.Next(count));
            else (messageFault, faultReason) = MessageFaults[pick - UsageFaults.Length];
        }

        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        var samples = new List<UsageSample>(count);
        if (count > 1) writer.WriteStartArray();
        for (var i = 0; i < count; i++)
        {
            var generated = NextUsageSample(gpu, random);
            var fault = i == faultIndex ? elementFault : UsageFault.None;
            WriteUsage(writer, gpu, generated, fault, epochMsExact);
            if (fault == UsageFault.None) samples.Add(generated.Sample);
        }
        if (count > 1) writer.WriteEndArray();
        writer.Flush();

        var value = BreakMessage(buffer.WrittenSpan, messageFault);
        IReadOnlyList<ExpectedRejection> rejections =
            messageFault != MessageFault.None ? [new ExpectedRejection(null, faultReason)]
            : elementFault != UsageFault.None ? [new ExpectedRejection(count > 1 ? faultIndex : null, faultReason)]
            : [];
        return new SimulatedMessage(AgentTopic.Usage, gpu.Id, value, messageFault == MessageFault.None ? samples : [], [], rejections, count, false);
    }

    private SimulatedMessage NextHeartbeatMessage(SimulatedGpu gpu, DateTimeOffset time, Random random, Utf8JsonWriter writer, ArrayBufferWriter<byte> buffer, bool epochMsExact)
    {
        var status = gpu.UtilizationTenths > 980 && random.Next(4) == 0 ? HeartbeatStatus.Degraded
            : random.Next(2000) == 0 ? HeartbeatStatus.Unhealthy
            : HeartbeatStatus.Healthy;
        var uptime = gpu.BootUptimeS + (long)(time - _plan.Start).TotalSeconds;
        var heartbeat = new HeartbeatSample(time, gpu.Id, gpu.ProviderId, status, gpu.AgentVersion, gpu.Model.DriverVersion,
            gpu.Flavour == AgentFlavour.EpochMilliseconds ? null : uptime);

        var (badStatus, missingVersion, messageFault, reason) = (false, false, MessageFault.None, "");
        if (random.NextDouble() < _plan.InvalidFraction)
        {
            switch (random.Next(4))
            {
                case 0: (badStatus, reason) = (true, RejectionReason.InvalidStatus); break;
                case 1: (missingVersion, reason) = (true, RejectionReason.MissingField); break;
                case 2: (messageFault, reason) = (MessageFault.Truncated, RejectionReason.MalformedJson); break;
                default: (messageFault, reason) = (MessageFault.Empty, RejectionReason.EmptyValue); break;
            }
        }

        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        writer.WriteStartObject();
        writer.WriteString("gpu_id"u8, heartbeat.GpuId);
        writer.WriteString("provider_id"u8, heartbeat.ProviderId);
        WriteTimestamp(writer, gpu, heartbeat.Time, epochMsExact);
        writer.WriteString("status"u8, badStatus ? "rebooting" : heartbeat.Status);
        if (!missingVersion) writer.WriteString("agent_version"u8, heartbeat.AgentVersion);
        writer.WriteString("driver_version"u8, heartbeat.DriverVersion);
        if (heartbeat.UptimeS is { } up) writer.WriteNumber("uptime_s"u8, up);
        else writer.WriteNull("uptime_s"u8);
        if (gpu.Flavour == AgentFlavour.Rfc3339LocalWithExtras) writer.WriteString("hostname"u8, gpu.Hostname);
        writer.WriteEndObject();
        writer.Flush();

        var valid = reason.Length == 0;
        return new SimulatedMessage(AgentTopic.Heartbeat, gpu.Id, BreakMessage(buffer.WrittenSpan, messageFault),
            [], valid ? [heartbeat] : [], valid ? [] : [new ExpectedRejection(null, reason)], 0, false);
    }

    /// <summary>A sample and its fractional values in tenths, which are what gets written.</summary>
    private readonly record struct GeneratedSample(UsageSample Sample, int UtilizationTenths, int TemperatureTenths, int PowerTenths);

    /// <summary>Advances the GPU's state by one sample interval; values move like a GPU running jobs that come and go.</summary>
    private GeneratedSample NextUsageSample(SimulatedGpu gpu, Random random)
    {
        var model = gpu.Model;
        if (random.Next(300) == 0)
            gpu.TargetUtilizationTenths = random.Next(10) switch { 0 or 1 => 0, 2 => random.Next(100, 400), _ => random.Next(700, 1001) };
        var drift = (gpu.TargetUtilizationTenths - gpu.UtilizationTenths) / 5 + random.Next(-30, 31);
        gpu.UtilizationTenths = Math.Clamp(gpu.UtilizationTenths + drift, 0, 1000);

        var memoryTarget = (long)(model.MemoryTotalMib * (0.05 + 0.9 * gpu.TargetUtilizationTenths / 1000.0));
        gpu.MemoryUsedMib = Math.Clamp(gpu.MemoryUsedMib + (memoryTarget - gpu.MemoryUsedMib) / 8 + random.Next(-64, 65), 0, model.MemoryTotalMib);
        if (model.HasEcc && random.Next(100_000) == 0) gpu.EccErrors++;

        var temperatureTenths = 300 + gpu.UtilizationTenths / 2 + random.Next(-15, 16);
        var powerTenths = Math.Max(0, model.IdlePowerW * 10 + (model.MaxPowerW - model.IdlePowerW) * gpu.UtilizationTenths / 100 + random.Next(-50, 51));
        var busy = gpu.UtilizationTenths > 50;
        var time = SampleTime(gpu.NextSample++);
        // tenths / 10.0 is the double nearest the one-decimal number written, so decoding yields exactly these floats.
        var sample = new UsageSample(
            time, gpu.Id, gpu.ProviderId,
            (float)(gpu.UtilizationTenths / 10.0),
            gpu.MemoryUsedMib, model.MemoryTotalMib,
            (float)(temperatureTenths / 10.0),
            (float)(powerTenths / 10.0),
            busy ? model.MaxSmClockMhz - random.Next(0, 120) : 210,
            gpu.Flavour == AgentFlavour.EpochMilliseconds && !busy ? null : busy ? model.MemClockMhz : 405,
            model.HasEcc ? gpu.EccErrors : null);
        return new GeneratedSample(sample, gpu.UtilizationTenths, temperatureTenths, powerTenths);
    }

    private static void WriteUsage(Utf8JsonWriter writer, SimulatedGpu gpu, GeneratedSample generated, UsageFault fault, bool epochMsExact)
    {
        var s = generated.Sample;
        writer.WriteStartObject();
        if (fault == UsageFault.GpuIdAsNumber) writer.WriteNumber("gpu_id"u8, 42);
        else writer.WriteString("gpu_id"u8, s.GpuId);
        writer.WriteString("provider_id"u8, s.ProviderId);
        var time = fault switch
        {
            UsageFault.FarFutureTimestamp => s.Time.AddDays(30),
            UsageFault.AncientTimestamp => new DateTimeOffset(2001, 9, 9, 1, 46, 40, TimeSpan.Zero),
            _ => s.Time,
        };
        WriteTimestamp(writer, gpu, time, epochMsExact);
        writer.WriteNumber("utilization_pct"u8, fault == UsageFault.UtilizationOver100 ? 100.5 + s.MemoryTotalMib % 50 : generated.UtilizationTenths / 10.0);
        writer.WriteNumber("memory_used_mib"u8, fault switch
        {
            UsageFault.MemoryUsedOverTotal => s.MemoryTotalMib + 1,
            UsageFault.NegativeMemory => -s.MemoryUsedMib - 1,
            _ => s.MemoryUsedMib,
        });
        if (fault != UsageFault.MissingMemoryTotal) writer.WriteNumber("memory_total_mib"u8, s.MemoryTotalMib);
        if (fault == UsageFault.NotANumberTemperature) writer.WriteString("temperature_c"u8, "NaN");
        else writer.WriteNumber("temperature_c"u8, generated.TemperatureTenths / 10.0);
        writer.WriteNumber("power_w"u8, generated.PowerTenths / 10.0);
        WriteOptional(writer, "sm_clock_mhz"u8, s.SmClockMhz, gpu.Flavour);
        WriteOptional(writer, "mem_clock_mhz"u8, s.MemClockMhz, gpu.Flavour);
        WriteOptional(writer, "ecc_errors"u8, s.EccErrors, gpu.Flavour);
        if (gpu.Flavour == AgentFlavour.Rfc3339LocalWithExtras)
        {
            // Fields from a newer agent version: the pipeline must skip them.
            writer.WriteNumber("fan_pct"u8, 30 + generated.UtilizationTenths / 20);
            writer.WriteStartObject("pcie"u8);
            writer.WriteNumber("gen"u8, 5);
            writer.WriteStartArray("throughput_mbps"u8);
            writer.WriteNumberValue(1200);
            writer.WriteNumberValue(800);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter writer, ReadOnlySpan<byte> name, long? value, AgentFlavour flavour)
    {
        if (value is { } v) writer.WriteNumber(name, v);
        else if (flavour == AgentFlavour.EpochMilliseconds) writer.WriteNull(name);
        // Other flavours leave unknown optional fields out.
    }

    private static void WriteTimestamp(Utf8JsonWriter writer, SimulatedGpu gpu, DateTimeOffset time, bool epochMsExact)
    {
        switch (gpu.Flavour)
        {
            case AgentFlavour.EpochMilliseconds when epochMsExact:
                writer.WriteNumber("ts"u8, time.ToUnixTimeMilliseconds());
                break;
            case AgentFlavour.Rfc3339LocalWithExtras:
                writer.WriteString("ts"u8, time.ToOffset(gpu.LocalOffset)); // 2026-03-01T13:29:00.25+01:00
                break;
            default:
                writer.WriteString("ts"u8, time.UtcDateTime); // 2026-03-01T12:29:00.25Z
                break;
        }
    }

    private static byte[] BreakMessage(ReadOnlySpan<byte> json, MessageFault fault)
    {
        switch (fault)
        {
            case MessageFault.Truncated:
                return json[..(json.Length / 2)].ToArray();
            case MessageFault.InvalidUtf8:
                var bytes = json.ToArray();
                var id = json.IndexOf("\"gpu_id\":\""u8);
                bytes[id + 10] = 0xFF; // never valid in UTF-8
                return bytes;
            case MessageFault.Empty:
                return [];
            case MessageFault.Scalar:
                return "\"agent restarted\""u8.ToArray();
            default:
                return json.ToArray();
        }
    }

    private SimulatedGpu[] CreateFleet(Random random)
    {
        var fleet = new SimulatedGpu[_plan.Gpus];
        var digits = Math.Max(4, (_plan.Gpus - 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        for (var i = 0; i < fleet.Length; i++)
        {
            var provider = i % _plan.Providers;
            var providerId = $"prov-{provider + 1:D2}";
            // Each provider buys mostly one model and runs one agent flavour.
            var model = Models[random.Next(4) == 0 ? random.Next(Models.Length) : provider % Models.Length];
            var flavour = (AgentFlavour)(provider % 3);
            var gpu = new SimulatedGpu(
                $"{providerId}-gpu-{i.ToString("D" + digits, System.Globalization.CultureInfo.InvariantCulture)}",
                providerId, model, flavour, DataCentreOffsets[provider % DataCentreOffsets.Length],
                $"2.{provider % 4}.{provider % 7}", random.Next(3600, 90 * 86400))
            {
                UtilizationTenths = random.Next(0, 1001),
            };
            gpu.TargetUtilizationTenths = gpu.UtilizationTenths;
            gpu.MemoryUsedMib = model.MemoryTotalMib * gpu.UtilizationTenths / 1200;
            fleet[i] = gpu;
        }
        return fleet;
    }
}
