using Microsoft.Extensions.Options;
using PdM.Contracts.Training;
using PdM.Edge.Simulator;
using PdM.Telemetry.Persistence;
using PdM.Telemetry.Store;
using PdM.Telemetry.Training;
using PdM.Training;

namespace PdM.Host.Demo;

/// <summary>
/// The demo's loop from data to model: after a spell of rules-only decisions it imports C-MAPSS FD001 into the feature
/// store with exactly the spec the gateway computes for turbofans, records a snapshot, and queues a training run. The
/// rest is the platform's ordinary path: the run registers its package as a Candidate, the registry's demo
/// auto-approval promotes it to Production (signed), and the in-process gateway downloads, verifies and loads it.
/// </summary>
public sealed partial class DemoTrainingService(
    IOptions<DemoTrainingOptions> options,
    IServiceScopeFactory scopes,
    DatasetImporter importer,
    TimeProvider clock,
    ILogger<DemoTrainingService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(settings.DelaySeconds), clock, stoppingToken);
            var file = CmapssReplay.ResolveFile(settings.TrainFile);
            if (file is null)
            {
                LogMissingFile(logger, settings.TrainFile);
                return;
            }

            // The spec the gateway runs for turbofans (edge/PdM.Edge.Gateway/specs/turbofan-fd001.json; a gateway test
            // holds the two equal): what the model learns from is what it will be fed.
            var spec = CmapssTraining.DefaultSpec(30, includeCycle: true, longWindow: 100);
            LogImporting(logger, file);
            var import = await importer.ImportCmapssAsync(file, spec, cancellationToken: stoppingToken);

            await using var scope = scopes.CreateAsyncScope();
            var snapshots = scope.ServiceProvider.GetRequiredService<SnapshotService>();
            var snapshot = await snapshots.CreateAsync(
                new SnapshotRequest { Name = "demo-fd001", Source = import.Source, SpecDigest = import.SpecDigest, LabelKind = LabelKinds.Rul },
                stoppingToken);

            var scheduler = scope.ServiceProvider.GetRequiredService<TrainingRunScheduler>();
            var result = await scheduler.ScheduleAsync(new TrainModel
            {
                RunId = Guid.CreateVersion7(),
                SnapshotId = snapshot.Id,
                Task = TrainingTaskKind.RulRegression,
                Algorithm = TrainingAlgorithm.FastTree,
                ModelName = settings.ModelName,
                ModelVersion = settings.ModelVersion,
                AssetClass = settings.AssetClass,
                Hyperparameters = new TrainingHyperparameters { NumberOfTrees = settings.NumberOfTrees },
                RequestedBy = settings.RequestedBy,
                OccurredAt = clock.GetUtcNow(),
            }, stoppingToken);

            if (result.Run is null)
            {
                LogRefused(logger, result.Problem ?? "unknown");
                return;
            }

            LogQueued(logger, result.Run.Id, snapshot.RowCount, settings.ModelName, settings.ModelVersion);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 9101, Level = LogLevel.Information, Message = "Demo: importing C-MAPSS {File} into the feature store to train a RUL model")]
    private static partial void LogImporting(ILogger logger, string file);

    [LoggerMessage(EventId = 9102, Level = LogLevel.Information,
        Message = "Demo: training run {RunId} queued on {Rows} feature rows for {ModelName}@{ModelVersion}; the gateway switches to it once it is registered, approved and deployed")]
    private static partial void LogQueued(ILogger logger, Guid runId, int rows, string modelName, string modelVersion);

    [LoggerMessage(EventId = 9103, Level = LogLevel.Warning, Message = "Demo: training refused: {Problem}")]
    private static partial void LogRefused(ILogger logger, string problem);

    [LoggerMessage(EventId = 9104, Level = LogLevel.Warning, Message = "Demo: C-MAPSS file {File} not found: the demo stays on the rules")]
    private static partial void LogMissingFile(ILogger logger, string file);
}
