using System.Globalization;
using System.Text;
using PdM.Benchmarks.Ingest;
using PdM.Benchmarks.Stream;

// make bench-ingest. One run measures, on the same queued backlog of the bench stream (10 pumps, 8 sensors per message):
// (a) mosquitto_sub, (b) a bare MQTTnet counting consumer, (c) the gateway (decode, validate, features, a rules decision
// per closed 1 s window) with tracing off, at the default sampling and at 100 %, in rotating rounds. Exits non-zero unless the
// gateway accepted every reading and made every decision the stream must produce.
if (args.Length > 0 && args[0] == "consumer")
{
    return await Consumers.Run(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture), args[4], int.Parse(args[5], CultureInfo.InvariantCulture),
        args.Length > 6 ? int.Parse(args[6], CultureInfo.InvariantCulture) : 0);
}

var port = Option("--port", int.Parse(Environment.GetEnvironmentVariable("PDM_MQTT_PORT") ?? "16883", CultureInfo.InvariantCulture));
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
var baseline = new List<ConsumerRun>
{
    await harness.MosquittoSubAsync(stream),
    await harness.DrainAsync("mqttnet", "-", stream, [], null),
};

// The gateway on the same stream with tracing off (no listener: no span is ever created), at the default sampling (the
// SDK's parent-based ratio sampler records that share of decisions, as a deployment would run) and at 100 %, in
// rounds. Two drains of the same gateway differ by 5-10 % on this 2-core machine (JIT tiering, the scheduler, what
// else runs), as much as the cost to be measured; so each round drains all three, in an order that rotates from round
// to round (every mode takes every position as often), each round gives a ratio to its own tracing-off drain, and the
// verdict is the median of those ratios. No OTLP endpoint: what is measured is creating and recording the spans, not
// shipping them.
var rounds = Option("--tracing-rounds", 6);
TracingMode[] modes =
[
    new("off", "", [.. gateway, "--Telemetry:Tracing:Enabled=false"]),
    new(string.Create(CultureInfo.InvariantCulture, $"{PdM.Hosting.TracingOptions.DefaultSampleRatio:0%} (default)"), "-traced", gateway),
    new("100 %", "-traced100", [.. gateway, "--Telemetry:Tracing:SampleRatio=1"]),
];
var traced = new List<(int Round, TracingMode Mode, ConsumerRun Run)>();
for (var round = 0; round < rounds; round++)
{
    for (var position = 0; position < modes.Length; position++)
    {
        var mode = modes[(round + position) % modes.Length];
        traced.Add((round + 1, mode, await harness.DrainAsync("gateway", scenario.Name + mode.ScenarioSuffix, stream, mode.Settings, scenario.ExpectedDecisions(stream))));
    }
}

var load = File.ReadAllText("/proc/loadavg").Trim();
Directory.Delete(work, recursive: true);

var table = new StringBuilder();
table.AppendLine("| round | consumer | tracing | messages/s | readings/s | CPU µs per message | decisions | methods JIT-compiled while measured | peak RSS MB |");
table.AppendLine("|---:|---|---|---:|---:|---:|---:|---:|---:|");
foreach (var (round, mode, run) in baseline.Select(run => (0, (TracingMode?)null, run)).Concat(traced.Select(t => (t.Round, (TracingMode?)t.Mode, t.Run))))
{
    table.AppendLine(string.Create(CultureInfo.InvariantCulture,
        $"| {(round == 0 ? "-" : round.ToString(CultureInfo.InvariantCulture))} | {run.Consumer} | {mode?.Name ?? "n/a"} | {run.MessagesPerSecond:0} | {run.MessagesPerSecond * BenchPlant.Sensors.Count:0} | {run.CpuMicrosecondsPerMessage:0.0} | {(run.Decisions is { } d ? d.ToString(CultureInfo.InvariantCulture) : "n/a")} | {(run.JitCompiledMethods is { } j ? j.ToString(CultureInfo.InvariantCulture) : "n/a")} | {run.PeakRssMb:0} |"));
}

Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{stream.Messages} queued QoS 1 messages per drain (the .NET consumers warmed up on {warmup} before), {stream.Assets} assets x {BenchPlant.Sensors.Count} readings; gateway scenario {scenario.Name} ({scenario.Spec.Window}); {rounds} tracing rounds; publisher {traced[^1].Run.PublishRate:0} msg/s; load average after: {load}"));
Console.WriteLine(table);

ConsumerRun In(int round, TracingMode mode) => traced.Single(t => t.Round == round && t.Mode == mode).Run;
var (off, sampled, full) = (modes[0], modes[1], modes[2]);
var roundNumbers = Enumerable.Range(1, rounds).ToArray();
double[] Ratios(TracingMode mode, Func<ConsumerRun, double> figure) => [.. roundNumbers.Select(r => figure(In(r, mode)) / figure(In(r, off)))];
var sampledThroughput = Ratios(sampled, r => r.MessagesPerSecond);
var fullThroughput = Ratios(full, r => r.MessagesPerSecond);
var offRates = roundNumbers.Select(r => In(r, off).MessagesPerSecond).ToArray();
var medianOff = traced.Where(t => t.Mode == off).Select(t => t.Run).OrderBy(r => r.MessagesPerSecond).ElementAt(rounds / 2);
var mosquitto = baseline[0];
var mqttnet = baseline[1];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"ingest: gateway_vs_mosquitto_sub={medianOff.MessagesPerSecond / mosquitto.MessagesPerSecond:0.00} gateway_vs_mqttnet={medianOff.MessagesPerSecond / mqttnet.MessagesPerSecond:0.00} readings_per_s={medianOff.MessagesPerSecond * BenchPlant.Sensors.Count:0} decisions={medianOff.Decisions} (the median tracing-off drain)"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"tracing: default_sample_ratio={PdM.Hosting.TracingOptions.DefaultSampleRatio} rounds={rounds} throughput_default_vs_off={Median(sampledThroughput):0.000} throughput_100pct_vs_off={Median(fullThroughput):0.000} cpu_per_message_default_vs_off={Median(Ratios(sampled, r => r.CpuMicrosecondsPerMessage)):0.000} cpu_per_message_100pct_vs_off={Median(Ratios(full, r => r.CpuMicrosecondsPerMessage)):0.000} off_drains_spread={(offRates.Max() - offRates.Min()) / Median(offRates):0.000} (medians of per-round ratios)"));
Console.WriteLine("tracing per round, default/off: " + string.Join(' ', sampledThroughput.Select(r => r.ToString("0.000", CultureInfo.InvariantCulture)))
    + "; 100 %/off: " + string.Join(' ', fullThroughput.Select(r => r.ToString("0.000", CultureInfo.InvariantCulture))));
// The goal of issue #13: tracing at the default sampling costs at most 5 % of the gateway's throughput. A run whose
// tracing-off drains alone differ by more than 15 % was too noisy to tell 5 % from nothing: it says so.
var noisy = (offRates.Max() - offRates.Min()) / Median(offRates) > 0.15;
Console.WriteLine((Median(sampledThroughput) >= 0.95 ? "tracing goal (default sampling costs <= 5 % of throughput): held" : "tracing goal (default sampling costs <= 5 % of throughput): NOT held")
    + (noisy ? " - but this run is too noisy to tell (off_drains_spread above 0.15): run it again on a quiet machine" : ""));
return 0;

static double Median(IReadOnlyList<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

/// <summary>One tracing setting of the gateway drains: its name in the table, its scenario suffix and its settings.</summary>
internal sealed record TracingMode(string Name, string ScenarioSuffix, IReadOnlyList<string> Settings);
