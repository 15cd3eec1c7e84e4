using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using PdM.Contracts.Registry;
using PdM.ModelPackage;
using PdM.ModelPackage.Cards;
using PdM.Persistence;
using PdM.Registry.Artifacts;
using PdM.Registry.Outbox;
using PdM.Registry.Persistence;

namespace PdM.Registry.Application;

/// <summary>
/// Registers model versions: runs the gateway's own package validation (PdM.ModelPackage's loader: limits, manifest,
/// ONNX checks, ONNX Runtime session, input/output match, golden vectors), refuses a bad package with the loader's
/// reason code and detail, and stores an accepted version as a content-addressed zip (stage Candidate) with its
/// <see cref="ModelVersionRegistered"/> in the outbox. The one path for HTTP uploads (<c>POST /api/models/{name}/versions</c>)
/// and for packages trained by the platform (<c>RegisterTrainedModel</c>).
/// </summary>
public sealed partial class ModelRegistrations(
    RegistryDbContext db,
    IArtifactStore store,
    OutboxSignal<RegistryDbContext> signal,
    IOptions<RegistryOptions> options,
    RegistryTelemetry telemetry,
    TimeProvider clock,
    ILogger<ModelRegistrations> logger)
{
    /// <summary>Null when <paramref name="name"/> is a model name; otherwise its (counted) refusal, before any package is read.</summary>
    public RegistrationOutcome? RefuseInvalidName(string name) =>
        NamePattern().IsMatch(name) ? null : Refuse("invalid_name", $"'{name}' is not a model name (letters, digits, '.', '_', '-'; at most 128)");

    /// <summary>Validates and registers the package made of <paramref name="model"/> (model.onnx) and <paramref name="manifest"/> (manifest.json).</summary>
    public async Task<RegistrationOutcome> RegisterAsync(PackageSubmission submission, Stream model, Stream manifest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(submission);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(manifest);
        using var activity = RegistryTelemetry.ActivitySource.StartActivity("model register");
        activity?.SetTag("pdm.model.name", submission.Name);
        activity?.SetTag("pdm.model.uploaded_by", submission.UploadedBy);
        activity?.SetTag("pdm.training.run_id", submission.Trained?.TrainingRunId.ToString());

        // The loader validates a folder, as the gateway will find it.
        var work = Path.Combine(Path.GetTempPath(), "pdm-registry-package-" + Guid.NewGuid().ToString("N"));
        var package = Path.Combine(work, "package");
        Directory.CreateDirectory(package);
        try
        {
            await Save(model, Path.Combine(package, ModelPackageFiles.ModelFileName), cancellationToken);
            await Save(manifest, Path.Combine(package, ModelPackageFiles.ManifestFileName), cancellationToken);
            return await RegisterPackageAsync(submission, package, cancellationToken);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private async Task<RegistrationOutcome> RegisterPackageAsync(PackageSubmission submission, string package, CancellationToken cancellationToken)
    {
        if (RefuseInvalidName(submission.Name) is { } invalid)
        {
            return invalid;
        }

        var limits = new ModelPackageLimits { MaxModelBytes = options.Value.MaxModelBytes, MaxManifestBytes = options.Value.MaxManifestBytes };

        // The loader is synchronous and runs ONNX Runtime: keep it off the caller's thread.
        var result = await Task.Run(() => ModelPackageLoader.Load(package, new ModelPackageLoadOptions { Limits = limits }), cancellationToken);
        if (result.Rejection is { } rejection)
        {
            return Refuse(rejection.Code, rejection.Detail);
        }

        string digest;
        ModelManifest parsed;
        using (var loaded = result.Package!)
        {
            digest = loaded.Digest;
            parsed = loaded.Manifest;
        }

        if (!string.Equals(parsed.Name, submission.Name, StringComparison.Ordinal))
        {
            return Refuse("name_mismatch", $"the manifest names the model '{parsed.Name}', but it was pushed as '{submission.Name}'");
        }

        if (submission.Card is { } cardBytes)
        {
            var (card, cardProblem) = ModelCardDocument.Parse(cardBytes);
            if (card is null)
            {
                return Refuse("invalid_card", cardProblem!);
            }

            if (card.ModelName != parsed.Name || card.ModelVersion != parsed.Version)
            {
                return Refuse("invalid_card", $"model-card.json describes {card.ModelName} {card.ModelVersion}, not the package's {parsed.Name} {parsed.Version}");
            }
        }

        var zip = Path.Combine(Path.GetTempPath(), "pdm-registry-zip-" + Guid.NewGuid().ToString("N") + ".zip");
        ArtifactInfo artifact;
        try
        {
            ModelPackageFiles.WriteZip(package, zip);
            await using var zipStream = File.OpenRead(zip);
            artifact = await store.PutAsync(zipStream, cancellationToken);
        }
        finally
        {
            File.Delete(zip);
        }

        var manifestText = await File.ReadAllTextAsync(Path.Combine(package, ModelPackageFiles.ManifestFileName), cancellationToken);
        return await RegisterAsync(parsed, digest, artifact, manifestText, submission, cancellationToken);
    }

    private async Task<RegistrationOutcome> RegisterAsync(ModelManifest manifest, string digest, ArtifactInfo artifact, string manifestText, PackageSubmission submission, CancellationToken cancellationToken)
    {
        var uploader = submission.UploadedBy;
        var trained = submission.Trained;
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock(hashtext({"pdm.registry.model:" + manifest.Name}))", cancellationToken);
        var existingModel = await db.Models.SingleOrDefaultAsync(m => m.Name == manifest.Name, cancellationToken);
        if (existingModel is not null && existingModel.AssetClass != manifest.AssetClass)
        {
            return Conflict("asset_class_mismatch", $"model '{manifest.Name}' serves asset class '{existingModel.AssetClass}'; this version declares '{manifest.AssetClass}'");
        }

        if (await db.Versions.AnyAsync(v => v.ModelName == manifest.Name && v.Version == manifest.Version, cancellationToken))
        {
            return Conflict("version_exists", $"'{manifest.Name}' version {manifest.Version} is already registered; versions are immutable, push a new version");
        }

        if (existingModel is null)
        {
            db.Models.Add(new RegisteredModel { Name = manifest.Name, AssetClass = manifest.AssetClass, CreatedBy = uploader, CreatedAt = now });
        }

        var record = new ModelVersionRecord
        {
            Id = Guid.CreateVersion7(now),
            ModelName = manifest.Name,
            Version = manifest.Version,
            AssetClass = manifest.AssetClass,
            PackageDigest = digest,
            ArtifactSha256 = artifact.Sha256,
            ArtifactBytes = artifact.Length,
            ManifestJson = manifestText,
            UploadedBy = uploader,
            UploadedAt = now,
            TrainingRunId = trained?.TrainingRunId,
            DatasetSnapshotId = trained?.DatasetSnapshotId,
            DatasetDigest = trained?.DatasetDigest ?? manifest.Provenance.DatasetDigest,
        };
        db.Versions.Add(record);
        if (submission.Card is { } card)
        {
            db.Cards.Add(new ModelCardRecord { VersionId = record.Id, CardJson = System.Text.Encoding.UTF8.GetString(card) });
        }
        var url = submission.ArtifactUrl(artifact.Sha256);
        RegistryOutbox.Enqueue(db, new ModelVersionRegistered
        {
            EventId = Guid.CreateVersion7(now),
            ModelName = record.ModelName,
            ModelVersion = record.Version,
            AssetClass = record.AssetClass,
            PackageDigest = digest,
            ArtifactSha256 = artifact.Sha256,
            ArtifactUrl = url,
            UploadedBy = uploader,
            TrainingRun = trained?.TrainingRunId.ToString("D") ?? manifest.Provenance.TrainingRun,
            DatasetDigest = record.DatasetDigest,
            TrainingRunId = trained?.TrainingRunId,
            DatasetSnapshotId = trained?.DatasetSnapshotId,
            OccurredAt = now,
        }, now);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (exception.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return Conflict("version_exists", $"'{manifest.Name}' version {manifest.Version} is already registered");
        }

        signal.Wake();
        telemetry.Uploads.Add(1, new KeyValuePair<string, object?>("result", "accepted"));
        LogRegistered(logger, record.ModelName, record.Version, uploader, digest);
        return new RegistrationOutcome(OutcomeKind.Done, record, url, null, null);
    }

    /// <summary>Counts and logs a refusal: the package's, or one its caller found before there was a package to validate (an unreadable upload, a missing file).</summary>
    public RegistrationOutcome Refuse(string reason, string detail)
    {
        telemetry.Uploads.Add(1, new KeyValuePair<string, object?>("result", reason));
        LogRejected(logger, reason, detail);
        return new RegistrationOutcome(OutcomeKind.Invalid, null, null, reason, detail);
    }

    private RegistrationOutcome Conflict(string reason, string detail)
    {
        telemetry.Uploads.Add(1, new KeyValuePair<string, object?>("result", reason));
        return new RegistrationOutcome(OutcomeKind.Conflict, null, null, reason, detail);
    }

    private static async Task Save(Stream content, string path, CancellationToken cancellationToken)
    {
        await using var target = File.Create(path);
        await content.CopyToAsync(target, cancellationToken);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex NamePattern();

    [LoggerMessage(EventId = 3131, Level = LogLevel.Information, Message = "Registered {ModelName}@{ModelVersion} pushed by {User} (digest {Digest})")]
    private static partial void LogRegistered(ILogger logger, string modelName, string modelVersion, string user, string digest);

    [LoggerMessage(EventId = 3132, Level = LogLevel.Warning, Message = "Model package rejected: {Reason}: {Detail}")]
    private static partial void LogRejected(ILogger logger, string reason, string detail);
}

/// <summary>A package to validate and register: the name it was pushed as, who pushed it, and how its artifact URL is built.</summary>
/// <param name="Name">The model name it was pushed as (the manifest must name the same).</param>
/// <param name="UploadedBy">The uploader on record (four eyes: they cannot approve it for Production).</param>
/// <param name="ArtifactUrl">The artifact's URL from its SHA-256.</param>
/// <param name="Trained">Set when a training run of the platform produced the package.</param>
/// <param name="Card">The package's <c>model-card.json</c>, when it came with one.</param>
public sealed record PackageSubmission(string Name, string UploadedBy, Func<string, string> ArtifactUrl, TrainedPackageProvenance? Trained = null, byte[]? Card = null);

/// <summary>Where a trained package came from: the run and the feature-store snapshot it learned from.</summary>
public sealed record TrainedPackageProvenance(Guid TrainingRunId, Guid DatasetSnapshotId, string? DatasetDigest);

/// <summary>A registration's result: the stored version and its artifact URL, or the refusal's kind, reason code and detail.</summary>
public sealed record RegistrationOutcome(OutcomeKind Kind, ModelVersionRecord? Version, string? ArtifactUrl, string? Reason, string? Detail)
{
    public bool Registered => Version is not null;
}
