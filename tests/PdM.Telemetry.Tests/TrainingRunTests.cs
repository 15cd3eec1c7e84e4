using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PdM.Contracts.Decisions;
using PdM.Contracts.Training;
using PdM.Edge.Inference;
using PdM.Features;
using PdM.ModelPackage;
using PdM.Telemetry.Persistence;
using PdM.Telemetry.Store;
using PdM.Testing;
using PdM.Training;

namespace PdM.Telemetry.Tests;

[Collection(TelemetrySuite.Name)]
public sealed class TrainingRunTests(TelemetryFixture fixture)
{
    private static readonly TimeSpan TrainingWait = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task TrainModel_over_http_produces_a_package_the_loader_accepts_with_the_snapshot_and_run_as_provenance()
    {
        var snapshot = await CmapssSnapshotAsync(units: 10, "http");

        var response = await fixture.Api.PostAsJsonAsync("/api/training/runs", new
        {
            snapshotId = snapshot.Id,
            task = "RulRegression",
            algorithm = "FastTree",
            modelName = "cmapss-http-rul",
            assetClass = "turbofan",
            hyperparameters = new { numberOfTrees = 20, numberOfLeaves = 8, minimumExampleCountPerLeaf = 10, learningRate = 0.2 },
            seed = 7,
            folds = 2,
        });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var runId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid();

        var run = await WaitForRunAsync(runId);
        Assert.Equal("Succeeded", run.GetProperty("status").GetString());
        Assert.Equal(snapshot.Digest, run.GetProperty("datasetDigest").GetString());
        var packagePath = run.GetProperty("packagePath").GetString()!;
        Assert.StartsWith(Path.GetFullPath(fixture.ModelStore), packagePath, StringComparison.Ordinal);

        var loaded = ModelPackageLoader.Load(packagePath);
        Assert.Null(loaded.Rejection);
        using var package = loaded.Package!;
        Assert.Equal("cmapss-http-rul", package.Manifest.Name);
        Assert.Equal(runId.ToString(), package.Manifest.Provenance.TrainingRun);
        Assert.Equal(snapshot.Digest, package.Manifest.Provenance.DatasetDigest);
        Assert.Equal(package.Digest, run.GetProperty("packageDigest").GetString());
        Assert.Contains("cvRmse", run.GetProperty("metricsJson").GetString(), StringComparison.Ordinal);

        var card = await fixture.Api.GetAsync($"/api/training/runs/{runId}/card");
        Assert.Equal(HttpStatusCode.OK, card.StatusCode);
        Assert.Equal("text/markdown", card.Content.Headers.ContentType!.MediaType);
        var markdown = await card.Content.ReadAsStringAsync();
        Assert.Contains(snapshot.Digest, markdown, StringComparison.Ordinal);
        Assert.Contains(package.Digest, markdown, StringComparison.Ordinal);

        // The card the registry keeps goes into the package: held-out figures (2-fold CV over 10 engines), feature importance.
        var modelCard = PdM.ModelPackage.Cards.ModelCardDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(packagePath, "model-card.json"))).Card!;
        Assert.Equal(("cmapss-http-rul", 10), (modelCard.ModelName, modelCard.Regression!.Rows));
        Assert.NotEmpty(modelCard.Regression.Bands);
        Assert.NotEmpty(modelCard.FeatureImportance!);
        Assert.True(File.Exists(Path.Combine(packagePath, "card", "predicted-vs-actual.svg")));
        Assert.True(File.Exists(Path.Combine(packagePath, "card", "feature-importance.svg")));

        // Beside them, the turbofan rules on the same 10 held-out engines (the snapshot's spec carries the 30-cycle means
        // they read), at the manifest's RUL Alert horizon: the rulesets travel with the module into the host's output.
        Assert.Equal(("turbofan-hpc-degradation@1.0.0", 10, 30.0), (modelCard.Rules!.Ruleset, modelCard.Rules.Rows, modelCard.Rules.HorizonRul));
        Assert.True(File.Exists(Path.Combine(packagePath, "card", "rules-flagged-by-rul-band.svg")));

        var stages = await Eventually.Until(
            // In the order the run reached them (event time): the collector consumes concurrently, so arrival order
            // is not publication order.
            () => Task.FromResult(fixture.Events.Of<TrainingRunProgressed>().Where(p => p.RunId == runId).OrderBy(p => p.OccurredAt).Select(p => p.Stage).ToList()),
            s => s.Contains("completed"), TimeSpan.FromSeconds(30), "the progress events");
        Assert.Equal(["loading", "training", "evaluating", "packaging", "completed"], stages);
        var completed = await Eventually.Until(
            () => Task.FromResult(fixture.Events.Of<TrainingRunCompleted>().FirstOrDefault(c => c.RunId == runId)), c => c is not null, TimeSpan.FromSeconds(30), "TrainingRunCompleted");
        Assert.True(completed!.Succeeded);
        Assert.Equal(package.Digest, completed.PackageDigest);
    }

    [Fact]
    public async Task TrainModel_naming_an_unknown_snapshot_is_refused_with_a_reason()
    {
        var response = await fixture.Api.PostAsJsonAsync("/api/training/runs", new
        {
            snapshotId = Guid.NewGuid(),
            task = "RulRegression",
            modelName = "nothing",
            assetClass = "turbofan",
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("does not exist", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_trained_by_a_bus_command_runs_in_the_gateway_and_its_decisions_carry_the_models_provenance()
    {
        var snapshot = await CmapssSnapshotAsync(units: 6, "gw");
        var runId = Guid.NewGuid();
        await fixture.Bus.Publish(new TrainModel
        {
            RunId = runId,
            SnapshotId = snapshot.Id,
            Task = TrainingTaskKind.RulRegression,
            Algorithm = TrainingAlgorithm.FastTree,
            ModelName = "cmapss-gateway-rul",
            ModelVersion = "1.2.0",
            AssetClass = "turbofan",
            Hyperparameters = new TrainingHyperparameters { NumberOfTrees = 40, NumberOfLeaves = 8, MinimumExampleCountPerLeaf = 10, LearningRate = 0.2 },
            Seed = 3,
            OccurredAt = DateTimeOffset.UtcNow,
        });
        var run = await WaitForRunAsync(runId);
        Assert.Equal("Succeeded", run.GetProperty("status").GetString());
        var packagePath = run.GetProperty("packagePath").GetString()!;
        var packageDigest = run.GetProperty("packageDigest").GetString()!;

        // The gateway's inference library, as the gateway wires it: slots per asset class and the decision policy.
        var options = new InferenceOptions { MaxBatchWaitMs = 0, ExecutionProvider = "cpu", GatewayId = "gw-test" };
        using var inferenceTelemetry = new InferenceTelemetry();
        await using var slots = new ModelSlots(Options.Create(options), TimeProvider.System, inferenceTelemetry, NullInferenceEventSink.Instance, NullLoggerFactory.Instance);
        var policy = new DecisionPolicy(slots, new NoRules(), Options.Create(options), TimeProvider.System, inferenceTelemetry, NullLogger<DecisionPolicy>.Instance);
        var deployment = slots.Deploy("turbofan", packagePath);
        Assert.True(deployment.Succeeded, deployment.Detail);

        // Feature windows as the gateway computes them: the streaming engine over the engines' readings, with the package's spec.
        var spec = CmapssTraining.DefaultSpec(30, includeCycle: true, longWindow: 100);
        var windows = new List<FeatureVectorSnapshot>();
        var engine = new FeatureEngine(spec, (in FeatureVector v) => windows.Add(v.ToSnapshot()));
        var dataset = CmapssDataset.Load(TelemetryFixture.CmapssSubset(units: 2, "gw-feed"));
        var sensors = new HashSet<string>(spec.Sensors, StringComparer.Ordinal);
        foreach (var reading in dataset.Readings(sensors, includeCycle: true))
        {
            engine.Add(reading.AssetId, reading.Sensor, reading.TimestampUnixMs, reading.Value);
        }

        engine.Flush();
        Assert.NotEmpty(windows);

        var names = spec.Features.Select(f => f.Name).ToArray();
        var decisions = new List<Decision>();
        foreach (var window in windows)
        {
            decisions.Add(await policy.DecideAsync(new DecisionRequest
            {
                AssetId = window.AssetId,
                AssetClass = "turbofan",
                FeatureNames = names,
                FeatureValues = window.Values,
                WindowStart = DateTimeOffset.FromUnixTimeMilliseconds(window.WindowStartUnixMs),
                WindowEnd = DateTimeOffset.FromUnixTimeMilliseconds(window.WindowEndUnixMs),
            }));
        }

        Assert.All(decisions, d =>
        {
            Assert.Equal(DecisionPath.Model, d.Provenance.Path);
            Assert.Equal("cmapss-gateway-rul", d.Provenance.ModelName);
            Assert.Equal("1.2.0", d.Provenance.ModelVersion);
            Assert.Equal(packageDigest, d.Provenance.ModelDigest);
            Assert.Equal("gw-test", d.Provenance.GatewayId);
            Assert.NotNull(d.RemainingUsefulLife);
        });

        // And the model is the one trained: each engine's RUL falls from its first window to its last (its failure).
        foreach (var engineDecisions in decisions.GroupBy(d => d.AssetId))
        {
            var ordered = engineDecisions.OrderBy(d => d.WindowEnd).ToList();
            Assert.True(ordered[^1].RemainingUsefulLife!.P50 < ordered[0].RemainingUsefulLife!.P50 - 50,
                $"{engineDecisions.Key}: RUL {ordered[0].RemainingUsefulLife!.P50} at the first window, {ordered[^1].RemainingUsefulLife!.P50} at failure");
            Assert.NotEqual(HealthState.Healthy, ordered[^1].HealthState);
        }
    }

    private async Task<DatasetSnapshot> CmapssSnapshotAsync(int units, string tag)
    {
        var importer = fixture.Services.GetRequiredService<DatasetImporter>();
        var spec = CmapssTraining.DefaultSpec(30, includeCycle: true, longWindow: 100);
        var import = await importer.ImportCmapssAsync(TelemetryFixture.CmapssSubset(units, tag), spec);
        await using var scope = fixture.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SnapshotService>().CreateAsync(new SnapshotRequest
        {
            Name = "fd001-" + tag,
            Source = import.Source,
            SpecDigest = import.SpecDigest,
            LabelKind = LabelKinds.Rul,
        });
    }

    private Task<JsonElement> WaitForRunAsync(Guid runId) => Eventually.Until(
        async () =>
        {
            var response = await fixture.Api.GetAsync($"/api/training/runs/{runId}");
            return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonElement>() : default;
        },
        run => run.ValueKind == JsonValueKind.Object && run.GetProperty("status").GetString() is "Succeeded" or "Failed",
        TrainingWait,
        $"training run {runId} to finish");

    /// <summary>The rules are not under test here: a rules decision would fail the provenance assertions anyway.</summary>
    private sealed class NoRules : IFallbackDecider
    {
        public ValueTask<Decision> DecideAsync(FallbackRequest request, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new Decision
            {
                AssetId = request.AssetId,
                AssetClass = request.AssetClass,
                HealthState = HealthState.Healthy,
                Confidence = 0,
                Provenance = new DecisionProvenance { Path = DecisionPath.Rules, GatewayId = request.GatewayId, RulesetName = "none" },
                WindowStart = request.WindowStart,
                WindowEnd = request.WindowEnd,
                DecidedAt = request.WindowEnd,
            });
    }
}
