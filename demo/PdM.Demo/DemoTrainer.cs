using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using PdM.Edge.Simulator;
using PdM.Security;

namespace PdM.Demo;

/// <summary>
/// The demo's data scientist: after a spell of rules-only decisions it registers the gateway's turbofan feature spec
/// with the feature store, imports C-MAPSS FD001 with it, snapshots the rows and asks for a training run
/// (<c>POST /api/training/runs</c>, what <c>pdm train</c> sends). The rest is the platform's ordinary path: the run
/// registers its package as a Candidate, the demo approver promotes it, the in-process gateway loads it.
/// </summary>
public sealed partial class DemoTrainer(
    IOptions<DemoTrainingOptions> options,
    IConfiguration configuration,
    DemoApi api,
    IHostApplicationLifetime lifetime,
    TimeProvider clock,
    ILogger<DemoTrainer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        try
        {
            await Started(lifetime, stoppingToken);
            await Task.Delay(TimeSpan.FromSeconds(settings.DelaySeconds), clock, stoppingToken);
            var file = CmapssReplay.ResolveFile(settings.TrainFile);
            if (file is null)
            {
                LogMissingFile(logger, settings.TrainFile);
                return;
            }

            // What the model learns from is what it will be fed: the spec file the gateway computes for this class.
            var specKey = "Gateway:FeatureSpecs:" + settings.AssetClass;
            var specFile = configuration[specKey] is { Length: > 0 } configured ? CmapssReplay.ResolveFile(configured) : null;
            if (specFile is null)
            {
                LogMissingFile(logger, specKey);
                return;
            }

            LogImporting(logger, file);
            using var scientist = api.As(settings.RequestedBy, PdMRoles.DataScientist);
            var specName = Path.GetFileNameWithoutExtension(specFile);
            using var spec = new StringContent(await File.ReadAllTextAsync(specFile, stoppingToken), Encoding.UTF8, "application/json");
            var specDigest = await CallAsync("feature spec", scientist.PutAsync(new Uri("api/feature-store/specs/" + Uri.EscapeDataString(specName), UriKind.Relative), spec, stoppingToken));
            if (specDigest is null)
            {
                return;
            }

            using var data = new ByteArrayContent(await File.ReadAllBytesAsync(file, stoppingToken));
            data.Headers.ContentType = new("text/plain");
            var importUri = "api/feature-store/imports/cmapss?name=" + Uri.EscapeDataString(Path.GetFileNameWithoutExtension(file)) + "&specDigest=" + Uri.EscapeDataString(specDigest);
            if (Parse(await CallAsync("import", scientist.PostAsync(new Uri(importUri, UriKind.Relative), data, stoppingToken))) is not { } import)
            {
                return;
            }

            if (Parse(await CallAsync("snapshot", scientist.PostAsJsonAsync("api/feature-store/snapshots", new JsonObject
            {
                ["name"] = "demo-" + specName,
                ["source"] = import["source"]!.GetValue<string>(),
                ["specDigest"] = specDigest,
                ["labelKind"] = "rul",
            }, stoppingToken))) is not { } snapshot)
            {
                return;
            }

            if (Parse(await CallAsync("training run", scientist.PostAsJsonAsync("api/training/runs", new JsonObject
            {
                ["snapshotId"] = snapshot["id"]!.GetValue<Guid>(),
                ["task"] = "RulRegression",
                ["algorithm"] = "FastTree",
                ["modelName"] = settings.ModelName,
                ["modelVersion"] = settings.ModelVersion,
                ["assetClass"] = settings.AssetClass,
                ["hyperparameters"] = new JsonObject { ["numberOfTrees"] = settings.NumberOfTrees },
            }, stoppingToken))) is not { } run)
            {
                return;
            }

            var runId = run["runId"]!.GetValue<Guid>();
            var rows = snapshot["rowCount"]!.GetValue<int>();
            LogQueued(logger, runId, rows, settings.ModelName, settings.ModelVersion);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The answer's body, or null (logged) when the platform refused the step or could not be reached.</summary>
    private async Task<string?> CallAsync(string step, Task<HttpResponseMessage> call)
    {
        try
        {
            using var response = await call;
            var body = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode)
            {
                return body;
            }

            LogRefused(logger, step, string.Create(CultureInfo.InvariantCulture, $"{(int)response.StatusCode} {body}"));
        }
        catch (HttpRequestException exception)
        {
            LogRefused(logger, step, exception.Message);
        }

        return null;
    }

    private static JsonNode? Parse(string? body) => body is null ? null : JsonNode.Parse(body);

    internal static async Task Started(IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(cancellationToken);
    }

    [LoggerMessage(EventId = 9101, Level = LogLevel.Information, Message = "Demo: importing C-MAPSS {File} into the feature store to train a RUL model")]
    private static partial void LogImporting(ILogger logger, string file);

    [LoggerMessage(EventId = 9102, Level = LogLevel.Information,
        Message = "Demo: training run {RunId} queued on {Rows} feature rows for {ModelName}@{ModelVersion}; the gateway switches to it once it is registered, approved and deployed")]
    private static partial void LogQueued(ILogger logger, Guid runId, int rows, string modelName, string modelVersion);

    [LoggerMessage(EventId = 9103, Level = LogLevel.Warning, Message = "Demo: training stopped at the {Step} step: {Problem}; the demo stays on the rules")]
    private static partial void LogRefused(ILogger logger, string step, string problem);

    [LoggerMessage(EventId = 9104, Level = LogLevel.Warning, Message = "Demo: {File} not found: the demo stays on the rules")]
    private static partial void LogMissingFile(ILogger logger, string file);
}
