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
/// registers its package as a Candidate, the demo approver promotes it, the in-process gateway loads it. Once that
/// version decides in Production, it trains a challenger on the same snapshot (<see cref="DemoChallengerOptions"/>),
/// which the demo approver puts in Shadow.
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

            var snapshotId = snapshot["id"]!.GetValue<Guid>();
            var rows = snapshot["rowCount"]!.GetValue<int>();
            if (await QueueRunAsync(scientist, snapshotId, settings.ModelVersion, settings.NumberOfTrees, settings.Seed, stoppingToken) is not { } runId)
            {
                return;
            }

            LogQueued(logger, runId, rows, settings.ModelName, settings.ModelVersion);
            if (!settings.Challenger.Enabled)
            {
                return;
            }

            // A plant's next model is trained while the current one decides, and goes to Shadow first. Only once the
            // first version decides does the challenger's run start, so the two trainings never share the demo's cores.
            var challenger = settings.Challenger;
            var production = await UntilDecidingInProductionAsync(settings.ModelName, settings.ModelVersion, TimeSpan.FromSeconds(challenger.PollSeconds), stoppingToken);
            using var challengerScientist = api.As(settings.RequestedBy, PdMRoles.DataScientist);
            if (await QueueRunAsync(challengerScientist, snapshotId, challenger.ModelVersion, challenger.NumberOfTrees, challenger.Seed, stoppingToken) is not { } challengerRunId)
            {
                return;
            }

            LogChallengerQueued(logger, challengerRunId, settings.ModelName, challenger.ModelVersion, challenger.NumberOfTrees, challenger.Seed,
                settings.ModelVersion, settings.NumberOfTrees, settings.Seed, production);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Asks for a training run of the configured model on the snapshot (what <c>pdm train</c> sends); its id, or null (logged).</summary>
    private async Task<Guid?> QueueRunAsync(HttpClient scientist, Guid snapshotId, string version, int trees, int seed, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        return Parse(await CallAsync("training run " + version, scientist.PostAsJsonAsync("api/training/runs", new JsonObject
        {
            ["snapshotId"] = snapshotId,
            ["task"] = "RulRegression",
            ["algorithm"] = "FastTree",
            ["modelName"] = settings.ModelName,
            ["modelVersion"] = version,
            ["assetClass"] = settings.AssetClass,
            ["hyperparameters"] = new JsonObject { ["numberOfTrees"] = trees },
            ["seed"] = seed,
        }, cancellationToken))) is { } run ? run["runId"]!.GetValue<Guid>() : null;
    }

    /// <summary>
    /// Waits until the registry shows the version in Production at a site whose gateway loaded it (what
    /// <c>GET /api/models/{name}/versions/{version}</c> shows a user); the site, once it does. Asks as the demo's data
    /// scientist, every poll with a fresh token (the wait can outlast one).
    /// </summary>
    private async Task<string> UntilDecidingInProductionAsync(string modelName, string version, TimeSpan poll, CancellationToken cancellationToken)
    {
        var path = new Uri(string.Create(CultureInfo.InvariantCulture, $"api/models/{Uri.EscapeDataString(modelName)}/versions/{Uri.EscapeDataString(version)}"), UriKind.Relative);
        while (true)
        {
            try
            {
                using var scientist = api.As(options.Value.RequestedBy, PdMRoles.DataScientist);
                using var response = await scientist.GetAsync(path, cancellationToken);
                if (response.IsSuccessStatusCode
                    && JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))?["sites"] is JsonArray sites
                    && sites.FirstOrDefault(s => s?["stage"]?.GetValue<string>() == "Production" && s["status"]?.GetValue<string>() == "Succeeded") is { } site)
                {
                    return site["siteId"]!.GetValue<string>();
                }
            }
            catch (HttpRequestException)
            {
                // The host is still starting or stopping: ask again.
            }

            await Task.Delay(poll, clock, cancellationToken);
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

    [LoggerMessage(EventId = 9105, Level = LogLevel.Information,
        Message = "Demo: {ModelName}@{ProductionVersion} decides in Production at {Site}; training run {RunId} queued for the challenger {ChallengerVersion} on the same rows ({ChallengerTrees} trees, seed {ChallengerSeed}; the first has {ProductionTrees} trees, seed {ProductionSeed}); once registered it goes to Shadow beside it")]
    private static partial void LogChallengerQueued(ILogger logger, Guid runId, string modelName, string challengerVersion, int challengerTrees, int challengerSeed,
        string productionVersion, int productionTrees, int productionSeed, string site);

    [LoggerMessage(EventId = 9103, Level = LogLevel.Warning, Message = "Demo: training stopped at the {Step} step: {Problem}; the demo stays on the rules")]
    private static partial void LogRefused(ILogger logger, string step, string problem);

    [LoggerMessage(EventId = 9104, Level = LogLevel.Warning, Message = "Demo: {File} not found: the demo stays on the rules")]
    private static partial void LogMissingFile(ILogger logger, string file);
}
