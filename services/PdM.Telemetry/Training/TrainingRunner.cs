using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.Contracts.Registry;
using PdM.Contracts.Training;
using PdM.ModelPackage;
using PdM.ModelPackage.Cards;
using PdM.Telemetry.Outbox;
using PdM.Telemetry.Persistence;
using PdM.Telemetry.Store;
using PdM.Training;

namespace PdM.Telemetry.Training;

/// <summary>
/// Runs queued training runs one at a time in the background: read the snapshot (refused if its digest changed),
/// train, optionally cross-validate grouped by asset, write the model package to the model store with provenance
/// (run id, snapshot digest) and the model card, then announce <see cref="TrainingRunCompleted"/> and send the package
/// to the registry (<see cref="RegisterTrainedModel"/>). Progress is stored and announced as
/// <see cref="TrainingRunProgressed"/>. Every message goes through the module's outbox in the same transaction as the
/// run's state change, so none is lost between the commit and the bus. At start, runs left Queued or Running by a
/// previous process are picked up again.
/// </summary>
public sealed partial class TrainingRunner(
    IServiceScopeFactory scopes,
    TrainingRunChannel queue,
    TelemetryOutbox outbox,
    IOptions<TrainingOptions> options,
    FeatureStoreTelemetry telemetry,
    TimeProvider clock,
    ILogger<TrainingRunner> logger) : BackgroundService
{
    public static TreeTrainingOptions ToTreeOptions(TrainModel command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var h = command.Hyperparameters ?? new TrainingHyperparameters();
        return new TreeTrainingOptions
        {
            Task = command.Task == TrainingTaskKind.RulRegression ? TrainingTask.RulRegression : TrainingTask.FailureClassification,
            Algorithm = command.Algorithm == TrainingAlgorithm.LightGbm ? TreeAlgorithm.LightGbm : TreeAlgorithm.FastTree,
            NumberOfTrees = h.NumberOfTrees,
            NumberOfLeaves = h.NumberOfLeaves,
            MinimumExampleCountPerLeaf = h.MinimumExampleCountPerLeaf,
            LearningRate = h.LearningRate,
            Seed = command.Seed,
        };
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await RequeueUnfinishedAsync(stoppingToken);
        await foreach (var runId in queue.ReadAllAsync(stoppingToken))
        {
            await RunAsync(runId, stoppingToken);
        }
    }

    private async Task RequeueUnfinishedAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TelemetryDbContext>();
        var unfinished = await db.TrainingRuns.AsNoTracking()
            .Where(r => r.Status == TrainingRunStatus.Queued || r.Status == TrainingRunStatus.Running)
            .OrderBy(r => r.QueuedAt).Select(r => r.Id).ToListAsync(cancellationToken);
        foreach (var id in unfinished)
        {
            queue.TryEnqueue(id);
        }
    }

    private async Task RunAsync(Guid runId, CancellationToken cancellationToken)
    {
        using var activity = FeatureStoreTelemetry.ActivitySource.StartActivity("training run");
        activity?.SetTag("pdm.training.run_id", runId.ToString());
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TelemetryDbContext>();
        var run = await db.TrainingRuns.SingleOrDefaultAsync(r => r.Id == runId, cancellationToken);
        if (run is null || run.Status is TrainingRunStatus.Succeeded or TrainingRunStatus.Failed)
        {
            return;
        }

        var command = JsonSerializer.Deserialize(run.RequestJson, TrainingContractsJsonContext.Default.TrainModel)!;
        run.Status = TrainingRunStatus.Running;
        run.StartedAt = clock.GetUtcNow();
        try
        {
            await ProgressAsync(db, run, "loading", 5, "reading snapshot " + command.SnapshotId, cancellationToken);
            var snapshots = scope.ServiceProvider.GetRequiredService<SnapshotService>();
            var (data, problem) = await snapshots.ReadAsync(command.SnapshotId, cancellationToken);
            if (data is null)
            {
                await FailAsync(db, run, problem!, cancellationToken);
                return;
            }

            run.DatasetDigest = data.Snapshot.Digest;
            var treeOptions = ToTreeOptions(command);
            await ProgressAsync(db, run, "training", 20,
                string.Create(CultureInfo.InvariantCulture, $"{data.Set.Examples.Count} rows, {data.Set.FeatureCount} features: {treeOptions}"), cancellationToken);
            var stopwatch = Stopwatch.StartNew();
            var model = await Task.Run(() => TreeModelTrainer.Train(data.Set, treeOptions), cancellationToken);
            var trainingTime = stopwatch.Elapsed;

            RulCvResult? rulCv = null;
            ClassificationCvResult? classificationCv = null;
            if (command.Folds >= 2)
            {
                await ProgressAsync(db, run, "evaluating", 50, command.Folds.ToString(CultureInfo.InvariantCulture) + "-fold CV grouped by asset", cancellationToken);
                if (treeOptions.Task == TrainingTask.RulRegression)
                {
                    rulCv = await Task.Run(() => CrossValidation.Rul(data.Set, treeOptions, command.Folds), cancellationToken);
                }
                else
                {
                    classificationCv = await Task.Run(() => CrossValidation.Classification(data.Set, treeOptions, command.Folds), cancellationToken);
                }
            }

            await ProgressAsync(db, run, "packaging", 85, "writing the model package", cancellationToken);
            var runDir = Path.GetFullPath(Path.Combine(options.Value.ModelStorePath, run.Id.ToString("N")));
            var packageDir = Path.Combine(runDir, "package");
            var regression = treeOptions.Task == TrainingTask.RulRegression;
            var manifest = ModelPackageWriter.Write(packageDir, model, data.Set, new PackageDescription
            {
                Name = command.ModelName,
                Version = command.ModelVersion,
                AssetClass = command.AssetClass,
                Thresholds = regression
                    ? new DecisionThresholds { RulWatch = 50, RulAlert = 30, RulDanger = 15 }
                    : new DecisionThresholds { FailureProbabilityWatch = 0.3, FailureProbabilityAlert = 0.5, FailureProbabilityDanger = 0.8 },
                FailureMode = command.FailureMode ?? (regression ? TrainingDefaults.RulFailureMode : TrainingDefaults.FailureClassificationMode),
                TrainingRunId = run.Id.ToString(),
                CreatedAt = clock.GetUtcNow(),
                CreatedBy = "PdM.Telemetry training runner" + (command.RequestedBy is { Length: > 0 } who ? " for " + who : string.Empty),
            });
            // The card an approver reads (held-out figures, feature importance) goes into the package and to the registry.
            var modelCard = TrainingCards.Build(manifest, data.Set, model, rulCv, classificationCv,
                "PdM training run " + run.Id.ToString("D") + (command.RequestedBy is { Length: > 0 } requester ? " for " + requester : string.Empty));
            ModelCardFigures.WriteInto(packageDir, modelCard);
            var cardBytes = modelCard.ToUtf8Json();
            var modelBytes = await File.ReadAllBytesAsync(Path.Combine(packageDir, ModelPackageFiles.ModelFileName), cancellationToken);
            var manifestBytes = await File.ReadAllBytesAsync(Path.Combine(packageDir, ModelPackageFiles.ManifestFileName), cancellationToken);
            var digest = PackageDigest.Compute(modelBytes, manifestBytes);

            var card = ModelCardWriter.Render(new ModelCard
            {
                Title = manifest.Name + " " + manifest.Version,
                RunId = run.Id.ToString(),
                CreatedAt = manifest.Provenance.CreatedAt,
                Set = data.Set,
                Model = model,
                LabelDefinition = regression
                    ? "RUL label of the snapshot's dataset labels (capped as imported)"
                    : "failure label of the snapshot's dataset labels (1 = failure)",
                RulCv = rulCv,
                ClassificationCv = classificationCv,
                TrainingTime = trainingTime,
                Notes =
                [
                    string.Create(CultureInfo.InvariantCulture,
                        $"Lineage: snapshot `{data.Snapshot.Name}` ({data.Snapshot.Id}), {data.Snapshot.RowCount} rows, `{data.Snapshot.Digest}`, source `{data.Snapshot.Source}`, spec `{data.Snapshot.SpecDigest}` → run `{run.Id}` → package `{manifest.Name}` {manifest.Version} `{digest}`."),
                ],
            });
            await File.WriteAllTextAsync(Path.Combine(runDir, "model-card.md"), card, cancellationToken);

            var packageBytes = (long)modelBytes.Length + manifestBytes.Length;
            if (packageBytes > options.Value.MaxRegistrationBytes)
            {
                await FailAsync(db, run, string.Create(CultureInfo.InvariantCulture,
                    $"the package is {packageBytes} bytes (model.onnx {modelBytes.Length}, manifest.json {manifestBytes.Length}), above Training:MaxRegistrationBytes = {options.Value.MaxRegistrationBytes}: it was written to {packageDir} but not sent to the registry (train fewer or smaller trees, or raise the limit)"),
                    cancellationToken);
                return;
            }

            run.ModelName = manifest.Name;
            run.ModelVersion = manifest.Version;
            run.PackagePath = packageDir;
            run.PackageDigest = digest;
            run.CardMarkdown = card;
            run.MetricsJson = Metrics(trainingTime, rulCv, classificationCv);
            run.Status = TrainingRunStatus.Succeeded;
            run.RegistrationStatus = RegistrationStatuses.Pending;
            var now = clock.GetUtcNow();
            run.FinishedAt = now;

            // The run's success, its events and the registration commit together: all or none.
            Announce(db, run, "completed", 100, null, now);
            TelemetryOutbox.Add(db, new TrainingRunCompleted
            {
                RunId = run.Id,
                Succeeded = true,
                SnapshotId = run.SnapshotId,
                DatasetDigest = run.DatasetDigest,
                ModelName = run.ModelName,
                ModelVersion = run.ModelVersion,
                PackageDigest = digest,
                PackagePath = packageDir,
                OccurredAt = now,
            }, TrainingContractsJsonContext.Default.TrainingRunCompleted, now);
            TelemetryOutbox.Add(db, new RegisterTrainedModel
            {
                CommandId = run.Id,
                TrainingRunId = run.Id,
                DatasetSnapshotId = run.SnapshotId,
                DatasetDigest = run.DatasetDigest,
                RequestedBy = string.IsNullOrWhiteSpace(command.RequestedBy) ? null : command.RequestedBy,
                ModelName = manifest.Name,
                ModelVersion = manifest.Version,
                AssetClass = manifest.AssetClass,
                PackageDigest = digest,
                ModelOnnx = modelBytes,
                ManifestJson = manifestBytes,
                ModelCardJson = cardBytes,
                OccurredAt = now,
            }, RegistryJsonContext.Default.RegisterTrainedModel, now);
            await db.SaveChangesAsync(cancellationToken);
            outbox.Wake();
            telemetry.TrainingRuns.Add(1, new KeyValuePair<string, object?>("result", "succeeded"));
            LogSucceeded(logger, run.Id, manifest.Name, manifest.Version, digest, packageDir);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A run fails as a whole (bad hyperparameters for this data, disk full, ML.NET refusing a set): record why.
            LogFailed(logger, ex, run.Id);
            await FailAsync(db, run, ex.GetType().Name + ": " + ex.Message, cancellationToken);
        }
    }

    private static string Metrics(TimeSpan trainingTime, RulCvResult? rul, ClassificationCvResult? classification)
    {
        var metrics = new Dictionary<string, double> { ["trainingSeconds"] = Math.Round(trainingTime.TotalSeconds, 3) };
        if (rul is not null)
        {
            metrics["cvRmse"] = rul.Rmse;
            metrics["cvPhm08Score"] = rul.Score;
            metrics["cvAllWindowsRmse"] = rul.AllWindowsRmse;
        }

        if (classification is not null)
        {
            metrics["cvPrecision"] = classification.Metrics.Precision;
            metrics["cvRecall"] = classification.Metrics.Recall;
            metrics["cvF1"] = classification.Metrics.F1;
            metrics["cvPrAuc"] = classification.Metrics.PrAuc;
        }

        return JsonSerializer.Serialize(metrics, TelemetryJsonContext.Default.DictionaryStringDouble);
    }

    private async Task ProgressAsync(TelemetryDbContext db, TrainingRunRecord run, string stage, int percent, string? detail, CancellationToken cancellationToken)
    {
        Announce(db, run, stage, percent, detail, clock.GetUtcNow());
        await db.SaveChangesAsync(cancellationToken);
        outbox.Wake();
    }

    /// <summary>The stage change and its event, for the caller's next SaveChanges (one transaction).</summary>
    private static void Announce(TelemetryDbContext db, TrainingRunRecord run, string stage, int percent, string? detail, DateTimeOffset now)
    {
        run.Stage = stage;
        run.PercentComplete = percent;
        TelemetryOutbox.Add(db, new TrainingRunProgressed { RunId = run.Id, Stage = stage, PercentComplete = percent, Detail = detail, OccurredAt = now },
            TrainingContractsJsonContext.Default.TrainingRunProgressed, now);
    }

    private async Task FailAsync(TelemetryDbContext db, TrainingRunRecord run, string error, CancellationToken cancellationToken)
    {
        // A SaveChanges that threw leaves its rows Added: they announced what did not happen and must not commit now.
        foreach (var unsaved in db.ChangeTracker.Entries<PdM.Persistence.OutboxMessage>().Where(e => e.State == EntityState.Added).ToList())
        {
            unsaved.State = EntityState.Detached;
        }

        var now = clock.GetUtcNow();
        run.Status = TrainingRunStatus.Failed;
        run.RegistrationStatus = null;
        run.Stage = "failed";
        run.Error = error.Length > 2000 ? error[..2000] : error;
        run.FinishedAt = now;
        TelemetryOutbox.Add(db, new TrainingRunCompleted
        {
            RunId = run.Id,
            Succeeded = false,
            SnapshotId = run.SnapshotId,
            DatasetDigest = run.DatasetDigest,
            Error = run.Error,
            OccurredAt = now,
        }, TrainingContractsJsonContext.Default.TrainingRunCompleted, now);
        await db.SaveChangesAsync(cancellationToken);
        outbox.Wake();
        telemetry.TrainingRuns.Add(1, new KeyValuePair<string, object?>("result", "failed"));
    }

    [LoggerMessage(EventId = 7303, Level = LogLevel.Information, Message = "Training run {RunId} produced {Model} {Version} ({Digest}) in {Path}")]
    private static partial void LogSucceeded(ILogger logger, Guid runId, string model, string version, string digest, string path);

    [LoggerMessage(EventId = 7304, Level = LogLevel.Error, Message = "Training run {RunId} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, Guid runId);
}
