using System.Globalization;
using System.Text;
using PdM.Benchmarks.Ingest;
using PdM.Benchmarks.Stream;

// make bench-ingest. One run measures, on the same queued backlog of the bench stream (10 pumps, 8 sensors per message):
// (a) mosquitto_sub, (b) a bare MQTTnet counting consumer, (c) the gateway (decode, validate, features, a rules decision
// per closed 1 s window) with tracing off, at the default sampling, at 100 % and off again. Exits non-zero unless the
// gateway accepted every reading and made every decision the stream must produce.
if (args.Length > 0 && args[0] == "consumer")
{
    return await Consumers.Run(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture), args[4], int.Parse(args[5], CultureInfo.InvariantCulture),
        args.Length > 6 ? int.Parse(args[6], CultureInfo.InvariantCulture) : 0);
}

var port = Option("--port", int.Parse(Environment.GetEnvironmentVariable("PDM_MQTT_PORT") ?? "51883", CultureInfo.InvariantCulture));
var warmup = Option("--warmup", 20_000);
var stream = new BenchPlant(Option("--assets", 10), Option("--messages", 100_000), BenchPlant.DefaultStart(DateTimeOffset.UtcNow));
if (args.Length > 0 && args[0] == "publish")
{
    // For profiling one consumer by hand: publish the stream and exit.
    var rate = await stream.PublishAsync(port);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"published {stream.Messages} at {rate:0} msg/s"));
    return 0;
}

var harness = new DrainHarness(port, typeof(Consumers).Assembly.Location, warmup);
var scenario = BenchScenario.PerWindow();
var work = Path.Combine(Path.GetTempPath(), "pdm-bench-ingest-" + Environment.ProcessId);
Directory.CreateDirectory(work);
var specFile = Path.Combine(work, "spec.json");
await File.WriteAllTextAsync(specFile, scenario.Spec.ToJson());
List<string> gateway = [$"--Gateway:FeatureSpecPath={specFile}", .. stream.AssetModelSettings("centrifugal-pump")];
if (args.Contains("--print-settings"))
{
    // For profiling by hand: the settings the gateway child runs with (PDM_BENCH_GATEWAY_ARGS, one per line).
    Console.WriteLine(string.Join('\n', gateway));
    return 0;
}

Console.Error.WriteLine($"load before: {File.ReadAllText("/proc/loadavg").Trim()}");
// The gateway on the same stream with tracing off (no listener: no span is ever created), at the default sampling (the
// SDK's parent-based ratio sampler records that share of decisions, as a deployment would run), at 100 %, and off
// again: the tracing runs are compared with the mean of the two runs around them, so that a machine whose load drifts
// during the bench does not pass for a cost of tracing. No OTLP endpoint: what is measured is creating and recording
// the spans, not shipping them.
List<string> tracingOff = [.. gateway, "--Telemetry:Tracing:Enabled=false"];
var runs = new List<ConsumerRun>
{
    await harness.MosquittoSubAsync(stream),
    await harness.DrainAsync("mqttnet", "-", stream, [], null),
    await harness.DrainAsync("gateway", scenario.Name, stream, tracingOff, scenario.ExpectedDecisions(stream)),
    await harness.DrainAsync("gateway", scenario.Name + "-traced", stream, gateway, scenario.ExpectedDecisions(stream)),
    await harness.DrainAsync("gateway", scenario.Name + "-traced100", stream, [.. gateway, "--Telemetry:Tracing:SampleRatio=1"], scenario.ExpectedDecisions(stream)),
    await harness.DrainAsync("gateway", scenario.Name + "-off-again", stream, tracingOff, scenario.ExpectedDecisions(stream)),
};
var load = File.ReadAllText("/proc/loadavg").Trim();
Directory.Delete(work, recursive: true);

var table = new StringBuilder();
table.AppendLine("| consumer | tracing | messages/s | readings/s | CPU µs per message | decisions | methods JIT-compiled while measured | peak RSS MB |");
table.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
foreach (var run in runs)
{
    table.AppendLine(string.Create(CultureInfo.InvariantCulture,
        $"| {run.Consumer} | {Tracing(run)} | {run.MessagesPerSecond:0} | {run.MessagesPerSecond * BenchPlant.Sensors.Count:0} | {run.CpuMicrosecondsPerMessage:0.0} | {(run.Decisions is { } d ? d.ToString(CultureInfo.InvariantCulture) : "n/a")} | {(run.JitCompiledMethods is { } j ? j.ToString(CultureInfo.InvariantCulture) : "n/a")} | {run.PeakRssMb:0} |"));
}

Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{stream.Messages} queued QoS 1 messages per drain (the .NET consumers warmed up on {warmup} before), {stream.Assets} assets x {BenchPlant.Sensors.Count} readings; gateway scenario {scenario.Name} ({scenario.Spec.Window}); publisher {runs[^1].PublishRate:0} msg/s; load average after: {load}"));
Console.WriteLine(table);
var (mosquitto, mqttnet, gatewayRun, traced, tracedFull, offAgain) = (runs[0], runs[1], runs[2], runs[3], runs[4], runs[5]);
var offRate = (gatewayRun.MessagesPerSecond + offAgain.MessagesPerSecond) / 2;
var offCpu = (gatewayRun.CpuMicrosecondsPerMessage + offAgain.CpuMicrosecondsPerMessage) / 2;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"ingest: gateway_vs_mosquitto_sub={gatewayRun.MessagesPerSecond / mosquitto.MessagesPerSecond:0.00} gateway_vs_mqttnet={gatewayRun.MessagesPerSecond / mqttnet.MessagesPerSecond:0.00} readings_per_s={gatewayRun.MessagesPerSecond * BenchPlant.Sensors.Count:0} decisions={gatewayRun.Decisions}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"tracing: default_sample_ratio={PdM.Hosting.TracingOptions.DefaultSampleRatio} throughput_default_vs_off={traced.MessagesPerSecond / offRate:0.000} throughput_100pct_vs_off={tracedFull.MessagesPerSecond / offRate:0.000} cpu_per_message_default_vs_off={traced.CpuMicrosecondsPerMessage / offCpu:0.000} cpu_per_message_100pct_vs_off={tracedFull.CpuMicrosecondsPerMessage / offCpu:0.000} off_runs_spread={Math.Abs(gatewayRun.MessagesPerSecond - offAgain.MessagesPerSecond) / offRate:0.000}"));
return 0;

static string Tracing(ConsumerRun run) => run.Consumer != "gateway" ? "n/a"
    : run.Scenario.EndsWith("-traced100", StringComparison.Ordinal) ? "100 %"
    : run.Scenario.EndsWith("-traced", StringComparison.Ordinal) ? string.Create(CultureInfo.InvariantCulture, $"{PdM.Hosting.TracingOptions.DefaultSampleRatio:0%} (default)")
    : "off";

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
