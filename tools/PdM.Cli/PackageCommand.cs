using System.CommandLine;
using System.Globalization;
using System.Text;
using PdM.Cli.Packaging;
using PdM.Features;
using PdM.ModelPackage;
using PdM.ModelPackage.Cards;

namespace PdM.Cli;

/// <summary>
/// <c>pdm model package MODEL.onnx --spec FILE|NAME --data CSV|SNAPSHOT …</c>: a package directory from a model made
/// anywhere, ready for <c>pdm model push</c>. The spec and the data are local files, or a spec name and a snapshot id
/// in the platform's feature store (read over the Telemetry API).
/// </summary>
internal static class PackageCommand
{
    public static Command Create(GlobalOptions global, CliEnvironment environment)
    {
        var model = new Argument<FileInfo>("model") { Description = "The ONNX model: one float input [batch, features], float (and int64 label) outputs" };
        var spec = new Option<string>("--spec") { Description = "The feature spec: a JSON file, or the name of a spec registered in the feature store", Required = true };
        var data = new Option<string>("--data") { Description = "The training rows: a CSV with a header of feature names, or a feature-store snapshot id", Required = true };
        var label = new Option<string?>("--label") { Description = "The CSV's label column (true RUL or 0/1), if it has one" };
        var name = new Option<string>("--name") { Description = "Model name", Required = true };
        var version = new Option<string>("--version") { Description = "Semantic version (major.minor.patch)", Required = true };
        var assetClass = new Option<string>("--asset-class") { Description = "Gateway asset class the model is for", Required = true };
        var output = new Option<DirectoryInfo>("--output") { Description = "Directory to write model.onnx and manifest.json to", Required = true };
        var kind = new Option<string?>("--output-kind") { Description = $"What the float output means when its name does not say: {OnnxSignatureProposal.KindNames}" };
        kind.AcceptOnlyFromAmong("rul", "rul-hours", "failure-probability", "class");
        var classes = new Option<string?>("--classes") { Description = "Class probability outputs: the class names in column order, comma-separated" };
        var normal = new Option<string?>("--normal-class") { Description = "Class probability outputs: the class that means no failure" };
        var failureMode = new Option<string?>("--failure-mode") { Description = "ISO 14224 failure mode the model predicts (default PDE for RUL, BRD for a failure probability)" };
        var thresholds = new Option<string?>("--thresholds") { Description = "Watch,alert,danger levels (RUL: at or below; probability: at or above); default 50,30,15 cycles or 0.3,0.5,0.8" };
        var author = new Option<string?>("--author") { Description = "Who made the model (default: the operating-system user)" };

        var command = new Command("package", "Build a package (model.onnx + manifest.json) from an ONNX model, a feature spec and the data it was trained on, validated as the gateways will")
        {
            model, spec, data, label, name, version, assetClass, output, kind, classes, normal, failureMode, thresholds, author,
        };
        command.SetAction(PdmCli.Action(global, environment, async (parse, session, cancellationToken) =>
        {
            var modelFile = parse.GetValue(model)!;
            if (!modelFile.Exists)
            {
                return session.Usage($"{modelFile.FullName} does not exist");
            }

            var outputKind = OnnxSignatureProposal.ParseKind(parse.GetValue(kind));
            var classNames = parse.GetValue(classes)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var (levels, levelProblem) = Levels(parse.GetValue(thresholds), outputKind);
            if (levelProblem is not null)
            {
                return session.Usage(levelProblem);
            }

            using var api = session.Api();
            var (featureSpec, specSource, specExit) = await ReadSpecAsync(api, session, parse.GetValue(spec)!, cancellationToken).ConfigureAwait(false);
            if (featureSpec is null)
            {
                return specExit;
            }

            var (table, dataSource, digest, dataExit) = await ReadDataAsync(api, session, parse.GetValue(data)!, featureSpec, specSource, parse.GetValue(label), cancellationToken).ConfigureAwait(false);
            if (table is null)
            {
                return dataExit;
            }

            var request = new PackageRequest
            {
                Model = await File.ReadAllBytesAsync(modelFile.FullName, cancellationToken).ConfigureAwait(false),
                Spec = featureSpec,
                Data = table,
                DataSource = dataSource,
                DatasetDigest = digest,
                Name = parse.GetValue(name)!,
                Version = parse.GetValue(version)!,
                AssetClass = parse.GetValue(assetClass)!,
                OutputKind = outputKind,
                Classes = classNames,
                NormalClass = parse.GetValue(normal),
                FailureMode = parse.GetValue(failureMode),
                Thresholds = levels,
                Author = parse.GetValue(author) ?? Environment.UserName,
                CreatedAt = DateTimeOffset.UtcNow,
            };

            var directory = parse.GetValue(output)!.FullName;
            var (package, problem) = ModelPackager.Build(request, directory);
            if (package is null)
            {
                session.Error.WriteLine("error: " + problem);
                return ExitCodes.Rejected;
            }

            using (package)
            {
                // With labels, the approver gets figures: the card goes beside the manifest and is pushed with it.
                var card = PackageCard.Build(package, table, dataSource);
                var cardFiles = card is null ? [] : ModelCardFigures.WriteInto(directory, card);
                Print(session, package, directory, specSource, dataSource, table, cardFiles);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static void Print(CliSession session, LoadedModelPackage package, string directory, string specSource, string dataSource, FeatureTable table, IReadOnlyList<string> cardFiles)
    {
        var m = package.Manifest;
        if (session.Json)
        {
            session.WriteJson(System.Text.Json.Nodes.JsonNode.Parse(m.ToUtf8Json()));
            return;
        }

        session.Line($"Wrote {m.Name} {m.Version} ({m.AssetClass}) to {directory}: model.onnx, manifest.json");
        session.Line($"  input       {m.Input.Name} [batch, {m.Input.Shape[1]}] ← feature spec {specSource}");
        foreach (var o in m.Outputs)
        {
            var classes = o.Classes is null ? string.Empty : $" classes {string.Join(",", o.Classes)} (normal {o.NormalClass})";
            session.Line($"  output      {o.Name}: {MeaningName(o.Meaning)}{classes}");
        }

        session.Line($"  thresholds  {Thresholds(m.Thresholds)}{(m.FailureMode is null ? string.Empty : ", failure mode " + m.FailureMode)}");
        session.Line($"  statistics  {m.FeatureStatistics.Count} features over {table.Rows.Count} rows of {dataSource} (out-of-distribution check)");
        if (m.TrainingDistribution is { } distribution)
        {
            session.Line($"  bins        {distribution.Features.Sum(f => f.Proportions.Count)} training-distribution bins over {distribution.Features.Count} features (drift monitor)");
        }

        session.Line($"  golden      {m.GoldenVectors.Cases.Count} vectors computed with ONNX Runtime {Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString()}, tolerance {m.GoldenVectors.Tolerance}");
        session.Line($"  provenance  dataset {m.Provenance.DatasetDigest}, by {m.Provenance.CreatedBy} at {m.Provenance.CreatedAt:yyyy-MM-ddTHH:mm:ssZ}");
        session.Line($"  validated   loads as the gateways load it; package digest {package.Digest}");
        var card = cardFiles.Count == 0
            ? "none: pass --label COLUMN (the true RUL or 0/1) for a model card with figures"
            : string.Join(", ", cardFiles.Select(f => Path.GetRelativePath(directory, f)));
        session.Line($"  card        {card}");
        session.Line($"Next: pdm model push {directory}");
    }

    private static string MeaningName(OutputMeaning meaning) => meaning switch
    {
        OutputMeaning.RulCycles => "remaining useful life (cycles)",
        OutputMeaning.RulHours => "remaining useful life (hours)",
        OutputMeaning.FailureProbability => "failure probability",
        OutputMeaning.FailureModeClass => "failure-mode class probabilities",
        _ => "label (informative)",
    };

    private static string Thresholds(DecisionThresholds t) => t.RulWatch is not null || t.RulAlert is not null || t.RulDanger is not null
        ? string.Create(CultureInfo.InvariantCulture, $"RUL watch ≤ {t.RulWatch}, alert ≤ {t.RulAlert}, danger ≤ {t.RulDanger}")
        : string.Create(CultureInfo.InvariantCulture, $"probability watch ≥ {t.FailureProbabilityWatch}, alert ≥ {t.FailureProbabilityAlert}, danger ≥ {t.FailureProbabilityDanger}");

    /// <summary>--thresholds W,A,D as RUL or probability levels; null for the defaults (chosen once the output is known).</summary>
    private static (DecisionThresholds? Levels, string? Problem) Levels(string? text, OutputKind? kind)
    {
        if (text is null)
        {
            return (null, null);
        }

        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new double[3];
        if (parts.Length != 3 || !parts.Select((p, i) => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out values[i])).All(ok => ok))
        {
            return (null, $"--thresholds '{text}' must be three numbers: watch,alert,danger");
        }

        if (kind is null)
        {
            return (null, "--thresholds needs --output-kind, so it is clear whether the levels are RUL or a probability");
        }

        return kind is OutputKind.Rul or OutputKind.RulHours
            ? (new DecisionThresholds { RulWatch = values[0], RulAlert = values[1], RulDanger = values[2] }, null)
            : (new DecisionThresholds { FailureProbabilityWatch = values[0], FailureProbabilityAlert = values[1], FailureProbabilityDanger = values[2] }, null);
    }

    /// <summary>A spec file, else a spec of that name in the feature store (<c>GET /api/feature-store/specs/{name}</c>).</summary>
    private static async Task<(FeatureSpec? Spec, string Source, int Exit)> ReadSpecAsync(PdmApi api, CliSession session, string value, CancellationToken cancellationToken)
    {
        string json;
        string source;
        if (File.Exists(value))
        {
            json = await File.ReadAllTextAsync(value, cancellationToken).ConfigureAwait(false);
            source = value;
        }
        else
        {
            var result = await api.GetAsync($"api/feature-store/specs/{Uri.EscapeDataString(value)}", cancellationToken).ConfigureAwait(false);
            if (!result.IsSuccess)
            {
                session.Error.WriteLine($"error: --spec '{value}' is not a file, and the feature store has no spec of that name: {result.ErrorLine()}");
                return (null, value, result.ExitCode == ExitCodes.Success ? ExitCodes.NotFound : result.ExitCode);
            }

            json = result.RawBody ?? string.Empty;
            source = $"'{value}' (feature store)";
        }

        try
        {
            var spec = FeatureSpec.Parse(json);
            spec.Validate();
            return (spec, source, ExitCodes.Success);
        }
        catch (FeatureSpecException ex)
        {
            session.Error.WriteLine($"error: {source} is not a valid feature spec: {string.Join("; ", ex.Errors)}");
            return (null, source, ExitCodes.Rejected);
        }
    }

    /// <summary>A CSV file (digest: its bytes), else a snapshot id (rows and recorded digest from the feature store).</summary>
    private static async Task<(FeatureTable? Table, string Source, string Digest, int Exit)> ReadDataAsync(
        PdmApi api, CliSession session, string value, FeatureSpec spec, string specSource, string? label, CancellationToken cancellationToken)
    {
        byte[] bytes;
        string source;
        string? digest = null;
        if (File.Exists(value))
        {
            bytes = await File.ReadAllBytesAsync(value, cancellationToken).ConfigureAwait(false);
            source = value;
        }
        else if (Guid.TryParse(value, out var snapshotId))
        {
            var snapshot = await api.GetAsync($"api/feature-store/snapshots/{snapshotId}", cancellationToken).ConfigureAwait(false);
            var rows = snapshot.IsSuccess ? await api.GetAsync($"api/feature-store/snapshots/{snapshotId}/rows", cancellationToken).ConfigureAwait(false) : snapshot;
            if (!rows.IsSuccess)
            {
                session.Error.WriteLine($"error: snapshot {snapshotId}: {rows.ErrorLine()}");
                return (null, value, string.Empty, rows.ExitCode);
            }

            bytes = Encoding.UTF8.GetBytes(rows.RawBody ?? string.Empty);
            source = $"snapshot {snapshotId} ({snapshot.Body.Str("name")})";
            digest = snapshot.Body.Str("digest");
            label ??= SnapshotLabelColumn;
        }
        else
        {
            session.Error.WriteLine($"error: --data '{value}' is neither a file nor a snapshot id");
            return (null, value, string.Empty, ExitCodes.Usage);
        }

        var (table, problem) = FeatureTable.Read(bytes, spec, label, source);
        if (table is null)
        {
            session.Error.WriteLine($"error: {problem} (feature spec {specSource})");
            return (null, source, string.Empty, ExitCodes.Rejected);
        }

        return (table, source, digest ?? "sha256:" + table.Sha256Hex, ExitCodes.Success);
    }

    /// <summary>The column of a snapshot's rows holding the uncapped target (true RUL, or 0/1).</summary>
    internal const string SnapshotLabelColumn = "target";
}
