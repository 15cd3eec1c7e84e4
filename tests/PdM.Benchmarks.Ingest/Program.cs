using System.Diagnostics;
using System.Globalization;
using System.Text;
using PdM.Benchmarks.Ingest;

// make bench-ingest. One run measures, on the same fixed stream published to the local Mosquitto:
// (a) mosquitto_sub draining it, (b) a bare MQTTnet counting consumer, (c) the gateway pipeline
// (parse + validate + features + rules), for 1 and 8 readings per message.
if (args.Length > 0 && args[0] == "idle")
{
    // bench-inference: a gateway child connected with nothing to do, for N seconds; prints its CPU share.
    var idleId = "bench-idle-" + Environment.ProcessId;
    var idle = Start(["dotnet", typeof(BenchStream).Assembly.Location, "consumer", "gateway", "idle", args[1], idleId, args[2]]);
    Console.WriteLine((await idle.Process.StandardOutput.ReadToEndAsync()).Split('\n').First(l => l.StartsWith("idle", StringComparison.Ordinal)));
    await idle.Process.WaitForExitAsync();
    await BenchStream.ForgetSession(int.Parse(args[1], CultureInfo.InvariantCulture), idleId);
    return 0;
}

if (args.Length > 0 && args[0] == "publish")
{
    // For profiling one consumer by hand: publish the stream (port, messages, readings per message) and exit.
    await BenchStream.Publish(int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture));
    return 0;
}

if (args.Length > 0 && args[0] == "consumer")
{
    return await Consumers.Run(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture), args[4], int.Parse(args[5], CultureInfo.InvariantCulture));
}

var messages = Option("--messages", 100_000);
var liveRate = Option("--live-rate", 2_000);
var liveMessages = Option("--live-messages", 10_000);
var port = Option("--port", int.Parse(Environment.GetEnvironmentVariable("PDM_MQTT_PORT") ?? "51883", CultureInfo.InvariantCulture));
var self = typeof(BenchStream).Assembly.Location;
var readingsPerMessage = args.Contains("--only-8") ? new[] { 8 } : new[] { 1, 8 };
var consumers = args.Contains("--no-mqttnet") ? new[] { "mosquitto_sub", "gateway" } : new[] { "mosquitto_sub", "mqttnet", "gateway" };
var results = new List<Row>();

foreach (var readings in readingsPerMessage)
{
    foreach (var consumer in consumers)
    {
        var id = $"bench-{consumer}-{readings}-{Environment.ProcessId}";
        await Run(Command(consumer, "prime", id, messages), expectResult: false);
        await BenchStream.Publish(port, messages, readings);
        var drain = await Run(Command(consumer, "drain", id, messages), expectResult: consumer != "mosquitto_sub");
        await BenchStream.ForgetSession(port, id);
        var seconds = drain.Seconds ?? drain.Wall;
        var cpu = drain.Cpu ?? drain.UserSys;
        double? p50 = null, p99 = null;
        if (consumer != "mosquitto_sub")
        {
            var liveId = id + "-live";
            var live = Start(Command(consumer, "live", liveId, liveMessages));
            await WaitForReady(live.Process);
            await BenchStream.Publish(port, liveMessages, readings, liveRate);
            var liveResult = await Finish(live, expectResult: true);
            await BenchStream.ForgetSession(port, liveId);
            (p50, p99) = (liveResult.P50, liveResult.P99);
        }

        results.Add(new Row(consumer, readings, messages, seconds, cpu, p50, p99, drain.PeakMb));
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{consumer} x{readings}: {messages / seconds:0} msg/s"));
    }
}

var table = new StringBuilder();
table.AppendLine("| consumer | readings/msg | messages/s | readings/s | CPU s per 1M readings | p50 ms | p99 ms | peak RSS MB |");
table.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
foreach (var row in results)
{
    table.AppendLine(string.Create(CultureInfo.InvariantCulture,
        $"| {row.Consumer} | {row.Readings} | {row.MessagesPerSecond:0} | {row.ReadingsPerSecond:0} | {row.CpuPerMillionReadings:0.00} | {Format(row.P50)} | {Format(row.P99)} | {row.PeakMb:0} |"));
}

Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{messages} queued QoS 1 messages per drain; latency from {liveMessages} messages published at {liveRate}/s (device time → processed)."));
Console.WriteLine(table);
var gateway8 = results.Single(r => r.Consumer == "gateway" && r.Readings == 8);
var mosquitto8 = results.Single(r => r.Consumer == "mosquitto_sub" && r.Readings == 8);
var mqttnet8 = results.SingleOrDefault(r => r.Consumer == "mqttnet" && r.Readings == 8);
var vsMqttnet = mqttnet8 is null ? "n/a" : (gateway8.MessagesPerSecond / mqttnet8.MessagesPerSecond).ToString("0.00", CultureInfo.InvariantCulture);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"ingest: gateway_vs_mosquitto_sub={gateway8.MessagesPerSecond / mosquitto8.MessagesPerSecond:0.00} gateway_vs_mqttnet={vsMqttnet} readings_per_s={gateway8.ReadingsPerSecond:0}"));
return 0;

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

string[] Command(string consumer, string mode, string id, int count) => consumer == "mosquitto_sub"
    ? mode == "prime"
        ? ["mosquitto_sub", "-h", "127.0.0.1", "-p", $"{port}", "-V", "mqttv5", "-c", "-x", "3600", "-i", id, "-q", "1", "-t", BenchStream.Topic, "-E"]
        : ["mosquitto_sub", "-h", "127.0.0.1", "-p", $"{port}", "-V", "mqttv5", "-c", "-x", "3600", "-i", id, "-q", "1", "-t", BenchStream.Topic, "-C", $"{count}"]
    : ["dotnet", self, "consumer", consumer, mode, $"{port}", id, $"{count}"];

static string Format(double? value) => value is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) : "n/a";

static Child Start(string[] command)
{
    var start = new ProcessStartInfo("/usr/bin/time") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    start.ArgumentList.Add("-f");
    start.ArgumentList.Add("time %e %U %S %M");
    foreach (var part in command)
    {
        start.ArgumentList.Add(part);
    }

    var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start " + command[0]);
    var stderr = process.StandardError.ReadToEndAsync();
    return new Child(process, stderr);
}

static async Task WaitForReady(Process process)
{
    while (await process.StandardOutput.ReadLineAsync() is { } line)
    {
        if (line == "ready")
        {
            return;
        }
    }

    throw new InvalidOperationException("consumer exited before it was ready");
}

static async Task<Measured> Run(string[] command, bool expectResult) => await Finish(Start(command), expectResult);

static async Task<Measured> Finish(Child child, bool expectResult)
{
    var stdout = await child.Process.StandardOutput.ReadToEndAsync();
    await child.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
    var stderr = await child.Stderr;
    var timeLine = stderr.Split('\n').LastOrDefault(l => l.StartsWith("time ", StringComparison.Ordinal))
        ?? throw new InvalidOperationException("no /usr/bin/time output: " + stderr);
    var t = timeLine.Split(' ');
    var measured = new Measured(double.Parse(t[1], CultureInfo.InvariantCulture), double.Parse(t[2], CultureInfo.InvariantCulture) + double.Parse(t[3], CultureInfo.InvariantCulture), double.Parse(t[4], CultureInfo.InvariantCulture) / 1024, null, null, null, null);
    if (child.Process.ExitCode != 0)
    {
        throw new InvalidOperationException($"consumer failed ({child.Process.ExitCode}): {stderr}");
    }

    var result = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("result ", StringComparison.Ordinal));
    if (!expectResult || result is null)
    {
        return measured;
    }

    var fields = result.Split(' ').Skip(1).Select(f => f.Split('=')).ToDictionary(f => f[0], f => double.Parse(f[1], CultureInfo.InvariantCulture));
    return measured with { Seconds = fields["seconds"], Cpu = fields["cpu"], P50 = fields["p50"], P99 = fields["p99"] };
}

internal sealed record Child(Process Process, Task<string> Stderr);

internal sealed record Measured(double Wall, double UserSys, double PeakMb, double? Seconds, double? Cpu, double? P50, double? P99);

internal sealed record Row(string Consumer, int Readings, int Messages, double Seconds, double CpuSeconds, double? P50, double? P99, double PeakMb)
{
    public double MessagesPerSecond => Messages / Seconds;

    public double ReadingsPerSecond => Messages * Readings / Seconds;

    public double CpuPerMillionReadings => CpuSeconds / (Messages * Readings / 1_000_000.0);
}
