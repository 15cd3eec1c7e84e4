using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace PdM.Cli;

/// <summary><c>pdm train</c>: queue a training run on a dataset snapshot (<c>POST /api/training/runs</c>), optionally follow it.</summary>
internal static class TrainCommand
{
    public static Command Create(GlobalOptions global, CliEnvironment environment)
    {
        var snapshot = new Option<Guid>("--snapshot") { Description = "Dataset snapshot id (from the feature store)", Required = true };
        var task = new Option<string>("--task") { Description = "rul (RUL regression) or failure (failure classification)", Required = true };
        task.AcceptOnlyFromAmong("rul", "failure");
        var algorithm = new Option<string>("--algorithm") { Description = "fasttree or lightgbm", DefaultValueFactory = _ => "fasttree" };
        algorithm.AcceptOnlyFromAmong("fasttree", "lightgbm");
        var name = new Option<string>("--name") { Description = "Model name for the package (lower-case, dashes)", Required = true };
        var version = new Option<string?>("--model-version") { Description = "Package version (default 1.0.0)" };
        var assetClass = new Option<string>("--asset-class") { Description = "Gateway asset class the model is for", Required = true };
        var trees = new Option<int?>("--trees") { Description = "Number of trees" };
        var leaves = new Option<int?>("--leaves") { Description = "Leaves per tree" };
        var seed = new Option<int?>("--seed") { Description = "Random seed (same seed, same snapshot → same model)" };
        var failureMode = new Option<string?>("--failure-mode") { Description = "ISO 14224 failure mode the model predicts (default PDE for rul, BRD for failure)" };
        var folds = new Option<int?>("--folds") { Description = "Cross-validation folds grouped by asset for the model card (0 skips)" };
        var wait = new Option<bool>("--wait") { Description = "Follow the run until it succeeds or fails" };
        var waitSeconds = new Option<int>("--wait-seconds") { Description = "How long --wait follows", DefaultValueFactory = _ => 600 };

        var command = new Command("train", "Start a training run on a dataset snapshot") { snapshot, task, algorithm, name, version, assetClass, failureMode, trees, leaves, seed, folds, wait, waitSeconds };
        command.SetAction(PdmCli.Action(global, environment, async (parse, session, cancellationToken) =>
        {
            var hyper = new JsonObject();
            if (parse.GetValue(trees) is { } t)
            {
                hyper["numberOfTrees"] = t;
            }

            if (parse.GetValue(leaves) is { } l)
            {
                hyper["numberOfLeaves"] = l;
            }

            var body = new JsonObject
            {
                ["snapshotId"] = parse.GetValue(snapshot),
                ["task"] = parse.GetValue(task) == "rul" ? "RulRegression" : "FailureClassification",
                ["algorithm"] = parse.GetValue(algorithm) == "lightgbm" ? "LightGbm" : "FastTree",
                ["modelName"] = parse.GetValue(name),
                ["modelVersion"] = parse.GetValue(version),
                ["assetClass"] = parse.GetValue(assetClass),
                ["seed"] = parse.GetValue(seed),
                ["folds"] = parse.GetValue(folds),
                ["failureMode"] = parse.GetValue(failureMode),
            };
            if (hyper.Count > 0)
            {
                body["hyperparameters"] = hyper;
            }

            using var api = session.Api();
            var result = await api.PostJsonAsync("api/training/runs", body, cancellationToken).ConfigureAwait(false);
            if (!result.IsSuccess)
            {
                return session.Fail(result);
            }

            var runId = result.Body.Str("runId");
            if (!parse.GetValue(wait))
            {
                if (session.Json)
                {
                    session.WriteJson(result.Body);
                }
                else
                {
                    session.Line($"Training run {runId} queued; `pdm train --help`, GET /api/training/runs/{runId} follows it");
                }

                return ExitCodes.Success;
            }

            var limit = TimeSpan.FromSeconds(parse.GetValue(waitSeconds));
            var clock = Stopwatch.StartNew();
            var lastStage = string.Empty;
            while (true)
            {
                var run = await api.GetAsync($"api/training/runs/{runId}", cancellationToken).ConfigureAwait(false);
                if (!run.IsSuccess)
                {
                    return session.Fail(run);
                }

                var status = run.Body.Str("status");
                var stage = run.Body.Str("stage");
                if (!session.Json && stage != lastStage)
                {
                    session.Line($"{runId}: {stage} {run.Body.Str("percentComplete")}%");
                    lastStage = stage;
                }

                if (status is "Succeeded" or "Failed" || clock.Elapsed >= limit)
                {
                    if (session.Json)
                    {
                        session.WriteJson(run.Body);
                    }
                    else if (status == "Succeeded")
                    {
                        session.Line($"{runId}: {run.Body.Str("modelName")} {run.Body.Str("modelVersion")} digest {run.Body.Str("packageDigest")}");
                    }

                    if (status == "Failed")
                    {
                        session.Error.WriteLine($"error: training run {runId} failed: {run.Body.Str("error")}");
                        return ExitCodes.Failed;
                    }

                    if (status != "Succeeded")
                    {
                        session.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"error: run {runId} still {status} after {limit.TotalSeconds:0} s"));
                        return ExitCodes.Unavailable;
                    }

                    return ExitCodes.Success;
                }

                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
        }));
        return command;
    }
}
