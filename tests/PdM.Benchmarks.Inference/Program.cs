using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML.OnnxRuntime;
using PdM.Benchmarks.Inference;
using PdM.Contracts.Decisions;
using PdM.Edge.Inference;

// make bench-inference, one run: (1) the gateway's scoring stage (DecisionPolicy: micro-batching, OOD check, provenance)
// vs a bare ONNX Runtime Run loop on the same model, batch sizes and session options; (2) end-to-end ingest with the
// model scoring vs mosquitto_sub (the bench-ingest harness with the model deployed); (3) idle CPU of that gateway.
var seconds = args.Contains("--quick") ? 1.0 : 3.0;

// `prepare DIR`: build the model, its store and spec into DIR and print the gateway settings (one per line) that the
// end-to-end run passes in PDM_BENCH_GATEWAY_ARGS, for profiling a gateway by hand.
var prepareOnly = args is ["prepare", _];
var work = prepareOnly ? Path.GetFullPath(args[1]) : Path.Combine(Path.GetTempPath(), "pdm-bench-inference-" + Environment.ProcessId);
Directory.CreateDirectory(work);
var (packageDirectory, spec, rows) = BenchModel.Build(work);
var featureNames = spec.Features.Select(f => f.Name).ToArray();
Console.Error.WriteLine($"bench model: {packageDirectory} ({featureNames.Length} features)");
if (prepareOnly)
{
    Console.WriteLine(await PrepareGateway(work, packageDirectory, spec));
    return 0;
}

var table = new List<string> { "| batch | scoring stage rows/s | bare ORT rows/s | scoring ÷ bare time |", "|---:|---:|---:|---:|" };
double ratioAt64 = 0;
foreach (var batch in new[] { 1, 16, 64 })
{
    var bare = BareOrt(Path.Combine(packageDirectory, "model.onnx"), rows, featureNames.Length, batch, seconds);
    var staged = await ScoringStage(packageDirectory, rows, featureNames, batch, seconds);
    var ratio = bare / staged;
    if (batch == 64)
    {
        ratioAt64 = ratio;
    }

    table.Add(string.Create(CultureInfo.InvariantCulture, $"| {batch} | {staged:0} | {bare:0} | {ratio:0.00} |"));
}

// (2) and (3) through the ingest harness, whose gateway child takes extra settings from the environment.
var gatewayArgs = await PrepareGateway(work, packageDirectory, spec);
var ingestDll = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "PdM.Benchmarks.Ingest", "bin", "Release", "net10.0", "PdM.Benchmarks.Ingest.dll");
var port = Environment.GetEnvironmentVariable("PDM_MQTT_PORT") ?? "51883";
var ingest = await RunHarness(ingestDll, ["--only-8", "--no-mqttnet", "--port", port], gatewayArgs);
var e2e = Field(ingest.Split('\n').Last(l => l.StartsWith("ingest:", StringComparison.Ordinal)), "gateway_vs_mosquitto_sub");
var idle = await RunHarness(ingestDll, ["idle", port, args.Contains("--quick") ? "5" : "30"], gatewayArgs);
var idlePercent = Field(idle.Split('\n').Last(l => l.StartsWith("idle", StringComparison.Ordinal)), "cpu_pct");

Console.WriteLine();
Console.WriteLine(string.Join('\n', table));
Console.WriteLine();
Console.WriteLine("End-to-end ingest with the model scoring (8 readings per message):");
Console.WriteLine(string.Join('\n', ingest.Split('\n').Where(l => l.StartsWith('|'))));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"inference: scoring_vs_bare_ort={ratioAt64:0.00} e2e_vs_mosquitto_sub={e2e:0.00} idle_cpu_pct={idlePercent:0.00}"));
Directory.Delete(work, recursive: true);
return 0;

static async Task<string> PrepareGateway(string work, string packageDirectory, PdM.Features.FeatureSpec spec)
{
    var store = Path.Combine(work, "store");
    var installed = new LocalModelStore(store).Install(packageDirectory);
    if (installed.Package is null)
    {
        throw new InvalidOperationException("model store refused the bench package: " + installed.Rejection);
    }

    var specFile = Path.Combine(work, "spec.json");
    await File.WriteAllTextAsync(specFile, spec.ToJson());
    return string.Join('\n',
        $"--Inference:ModelStorePath={store}", $"--Gateway:FeatureSpecPath={specFile}", $"--AssetModel:Assets:0:AssetClass={BenchModel.AssetClass}",
        "--Logging:LogLevel:PdM.Edge.Gateway.Models=Information");
}

static double BareOrt(string modelPath, float[][] rows, int features, int batch, double seconds)
{
    using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
    options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
    options.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
    using var session = new InferenceSession(modelPath, options);
    var input = new float[batch * features];
    using var tensor = OrtValue.CreateTensorValueFromMemory(input, [batch, features]);
    using var runOptions = new RunOptions();
    var inputName = session.InputNames[0];
    var outputNames = session.OutputNames;
    var scored = 0L;
    var next = 0;
    var watch = Stopwatch.StartNew();
    while (watch.Elapsed.TotalSeconds < seconds)
    {
        for (var r = 0; r < batch; r++)
        {
            rows[next++ % rows.Length].CopyTo(input, r * features);
        }

        using var outputs = session.Run(runOptions, [inputName], [tensor], outputNames);
        scored += batch;
    }

    return scored / watch.Elapsed.TotalSeconds;
}

static async Task<double> ScoringStage(string packageDirectory, float[][] rows, string[] featureNames, int batch, double seconds)
{
    var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Inference:MaxBatchSize"] = batch.ToString(CultureInfo.InvariantCulture),
        ["Inference:MaxBatchWaitMs"] = "0",
        ["Inference:GatewayId"] = "bench",
    }).Build();
    var services = new ServiceCollection().AddLogging().AddMetrics().AddSingleton<IConfiguration>(configuration);
    services.AddPdmInference();
    await using var provider = services.BuildServiceProvider();
    var slots = provider.GetRequiredService<ModelSlots>();
    var deployed = slots.Deploy(BenchModel.AssetClass, packageDirectory);
    if (!deployed.Succeeded)
    {
        throw new InvalidOperationException($"deploy failed: {deployed.FailureCode} {deployed.Detail}");
    }

    var policy = provider.GetRequiredService<DecisionPolicy>();
    var requests = rows.Take(4096).Select((row, i) => new DecisionRequest
    {
        AssetId = $"A{i % 512}",
        AssetClass = BenchModel.AssetClass,
        FeatureNames = featureNames,
        FeatureValues = row,
        WindowStart = DateTimeOffset.UnixEpoch,
        WindowEnd = DateTimeOffset.UnixEpoch.AddSeconds(10),
    }).ToArray();

    var first = await policy.DecideAsync(requests[0]);
    if (first.Provenance.Path != DecisionPath.Model)
    {
        throw new InvalidOperationException($"the bench model did not decide: fallback {first.FallbackReason}");
    }

    // As the gateway's DecisionStage calls it: the windows that closed together go to the policy at once. 4,096
    // requests divide into every batch size measured, so each slice is a whole batch.
    var decisions = new List<Decision>(batch);
    var scored = 0L;
    var next = 0;
    var watch = Stopwatch.StartNew();
    while (watch.Elapsed.TotalSeconds < seconds)
    {
        decisions.Clear();
        await policy.DecideAllAsync(new ArraySegment<DecisionRequest>(requests, next, batch), decisions);
        next = (next + batch) % requests.Length;
        scored += batch;
    }

    return scored / watch.Elapsed.TotalSeconds;
}

static async Task<string> RunHarness(string dll, string[] arguments, string gatewayArgs)
{
    var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    start.ArgumentList.Add(Path.GetFullPath(dll));
    foreach (var argument in arguments)
    {
        start.ArgumentList.Add(argument);
    }

    start.Environment["PDM_BENCH_GATEWAY_ARGS"] = gatewayArgs;
    using var process = Process.Start(start)!;
    var stderr = process.StandardError.ReadToEndAsync();
    var stdout = await process.StandardOutput.ReadToEndAsync();
    await process.WaitForExitAsync();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"{string.Join(' ', arguments)} failed: {await stderr}");
    }

    return stdout;
}

static double Field(string line, string name)
{
    var token = line.Split(' ').First(t => t.StartsWith(name + "=", StringComparison.Ordinal));
    return double.Parse(token[(name.Length + 1)..], CultureInfo.InvariantCulture);
}
