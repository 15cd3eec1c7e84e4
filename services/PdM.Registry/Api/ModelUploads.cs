using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using PdM.Contracts.Registry;
using PdM.ModelPackage;
using PdM.Registry.Artifacts;
using PdM.Registry.Identity;
using PdM.Registry.Outbox;
using PdM.Registry.Persistence;

namespace PdM.Registry.Api;

/// <summary>
/// <c>POST /api/models/{name}/versions</c>: runs the gateway's own package validation (PdM.ModelPackage's loader:
/// limits, manifest, ONNX checks, ONNX Runtime session, input/output match, golden vectors) and refuses a bad package
/// with the loader's reason code and detail. An accepted version is stored as a content-addressed zip (stage Candidate).
/// </summary>
public sealed partial class ModelUploads(
    RegistryDbContext db,
    IArtifactStore store,
    ArtifactLinks links,
    RegistryOutboxSignal signal,
    IOptions<RegistryOptions> options,
    RegistryTelemetry telemetry,
    TimeProvider clock,
    ILogger<ModelUploads> logger)
{
    public long MaxRequestBytes => options.Value.MaxModelBytes + options.Value.MaxManifestBytes + (64 * 1024);

    public async Task<IResult> UploadAsync(string name, Caller caller, HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(request);
        if (!NamePattern().IsMatch(name))
        {
            return Rejected("invalid_name", $"'{name}' is not a model name (letters, digits, '.', '_', '-'; at most 128)");
        }

        if (!request.HasFormContentType)
        {
            return Rejected("missing_entry", "expected multipart/form-data with the files model.onnx and manifest.json");
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is InvalidDataException or BadHttpRequestException or IOException)
        {
            return Rejected("unreadable", "the multipart body cannot be read: " + exception.Message);
        }

        var model = FindFile(form, "model", ModelPackageFiles.ModelFileName);
        var manifest = FindFile(form, "manifest", ModelPackageFiles.ManifestFileName);
        if (model is null || manifest is null)
        {
            return Rejected("missing_entry", $"{(model is null ? ModelPackageFiles.ModelFileName : ModelPackageFiles.ManifestFileName)} is missing from the upload (form fields 'model' and 'manifest', or files of those names)");
        }

        var work = Path.Combine(Path.GetTempPath(), "pdm-registry-upload-" + Guid.NewGuid().ToString("N"));
        var package = Path.Combine(work, "package");
        Directory.CreateDirectory(package);
        try
        {
            await Save(model, Path.Combine(package, ModelPackageFiles.ModelFileName), cancellationToken);
            await Save(manifest, Path.Combine(package, ModelPackageFiles.ManifestFileName), cancellationToken);
            var limits = new ModelPackageLimits { MaxModelBytes = options.Value.MaxModelBytes, MaxManifestBytes = options.Value.MaxManifestBytes };

            // The loader is synchronous and runs ONNX Runtime: keep it off the request thread.
            var result = await Task.Run(() => ModelPackageLoader.Load(package, new ModelPackageLoadOptions { Limits = limits }), cancellationToken);
            if (result.Rejection is { } rejection)
            {
                return Rejected(rejection.Code, rejection.Detail);
            }

            string digest;
            ModelManifest parsed;
            using (var loaded = result.Package!)
            {
                digest = loaded.Digest;
                parsed = loaded.Manifest;
            }

            if (!string.Equals(parsed.Name, name, StringComparison.Ordinal))
            {
                return Rejected("name_mismatch", $"the manifest names the model '{parsed.Name}', but it was pushed as '{name}'");
            }

            var zip = Path.Combine(work, "package.zip");
            ModelPackageFiles.WriteZip(package, zip);
            ArtifactInfo artifact;
            await using (var zipStream = File.OpenRead(zip))
            {
                artifact = await store.PutAsync(zipStream, cancellationToken);
            }

            var manifestText = await File.ReadAllTextAsync(Path.Combine(package, ModelPackageFiles.ManifestFileName), cancellationToken);
            return await RegisterAsync(parsed, digest, artifact, manifestText, caller, request, cancellationToken);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private async Task<IResult> RegisterAsync(ModelManifest manifest, string digest, ArtifactInfo artifact, string manifestText, Caller caller, HttpRequest request, CancellationToken cancellationToken)
    {
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
            db.Models.Add(new RegisteredModel { Name = manifest.Name, AssetClass = manifest.AssetClass, CreatedBy = caller.User, CreatedAt = now });
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
            UploadedBy = caller.User,
            UploadedAt = now,
        };
        db.Versions.Add(record);
        var url = links.For(request, artifact.Sha256);
        RegistryOutbox.Enqueue(db, new ModelVersionRegistered
        {
            EventId = Guid.CreateVersion7(now),
            ModelName = record.ModelName,
            ModelVersion = record.Version,
            AssetClass = record.AssetClass,
            PackageDigest = digest,
            ArtifactSha256 = artifact.Sha256,
            ArtifactUrl = url,
            UploadedBy = caller.User,
            TrainingRun = manifest.Provenance.TrainingRun,
            DatasetDigest = manifest.Provenance.DatasetDigest,
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

        signal.Set();
        telemetry.Uploads.Add(1, new KeyValuePair<string, object?>("result", "accepted"));
        LogRegistered(logger, record.ModelName, record.Version, caller.User, digest);
        return Results.Created($"/api/models/{record.ModelName}/versions/{record.Version}", ModelVersionResponse.From(record, [], url));
    }

    private IResult Rejected(string reason, string detail)
    {
        telemetry.Uploads.Add(1, new KeyValuePair<string, object?>("result", reason));
        LogRejected(logger, reason, detail);
        return RegistryProblems.Problem(StatusCodes.Status400BadRequest, reason, "Model package rejected: " + reason, detail);
    }

    private IResult Conflict(string reason, string detail)
    {
        telemetry.Uploads.Add(1, new KeyValuePair<string, object?>("result", reason));
        return RegistryProblems.Problem(StatusCodes.Status409Conflict, reason, "Model version conflict", detail);
    }

    private static IFormFile? FindFile(IFormCollection form, string field, string fileName) =>
        form.Files.GetFile(field) ?? form.Files.GetFile(fileName) ?? form.Files.FirstOrDefault(f => string.Equals(f.FileName, fileName, StringComparison.Ordinal));

    private static async Task Save(IFormFile file, string path, CancellationToken cancellationToken)
    {
        await using var target = File.Create(path);
        await file.CopyToAsync(target, cancellationToken);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex NamePattern();

    [LoggerMessage(EventId = 3131, Level = LogLevel.Information, Message = "Registered {ModelName}@{ModelVersion} pushed by {User} (digest {Digest})")]
    private static partial void LogRegistered(ILogger logger, string modelName, string modelVersion, string user, string digest);

    [LoggerMessage(EventId = 3132, Level = LogLevel.Warning, Message = "Model package rejected: {Reason}: {Detail}")]
    private static partial void LogRejected(ILogger logger, string reason, string detail);
}
