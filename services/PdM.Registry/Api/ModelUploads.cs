using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using PdM.ModelPackage;
using PdM.ModelPackage.Cards;
using PdM.Registry.Application;
using PdM.Registry.Identity;

namespace PdM.Registry.Api;

/// <summary>
/// <c>POST /api/models/{name}/versions</c>, the HTTP side: reads the multipart upload (model.onnx and manifest.json)
/// and hands it to <see cref="ModelRegistrations"/>, which validates and registers it; answers with the version or
/// the refusal's reason code and detail.
/// </summary>
public sealed class ModelUploads(ModelRegistrations registrations, ArtifactLinks links, IOptions<RegistryOptions> options)
{
    public long MaxRequestBytes => options.Value.MaxModelBytes + options.Value.MaxManifestBytes + ModelCardDocument.MaxBytes + (64 * 1024);

    public async Task<IResult> UploadAsync(string name, Caller caller, HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(request);
        if (registrations.RefuseInvalidName(name) is { } invalid)
        {
            return invalid.ToResult();
        }

        if (!request.HasFormContentType)
        {
            return registrations.Refuse("missing_entry", "expected multipart/form-data with the files model.onnx and manifest.json").ToResult();
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is InvalidDataException or BadHttpRequestException or IOException)
        {
            return registrations.Refuse("unreadable", "the multipart body cannot be read: " + exception.Message).ToResult();
        }

        var model = FindFile(form, "model", ModelPackageFiles.ModelFileName);
        var manifest = FindFile(form, "manifest", ModelPackageFiles.ManifestFileName);
        if (model is null || manifest is null)
        {
            return registrations.Refuse("missing_entry", $"{(model is null ? ModelPackageFiles.ModelFileName : ModelPackageFiles.ManifestFileName)} is missing from the upload (form fields 'model' and 'manifest', or files of those names)").ToResult();
        }

        // Optional: the model card (model-card.json) training and `pdm model package --label` write beside the manifest.
        byte[]? card = null;
        if (FindFile(form, "card", ModelCardDocument.FileName) is { } cardFile)
        {
            if (cardFile.Length > ModelCardDocument.MaxBytes)
            {
                return registrations.Refuse("invalid_card", $"model-card.json is {cardFile.Length} bytes; at most {ModelCardDocument.MaxBytes} are kept").ToResult();
            }

            using var buffer = new MemoryStream();
            await cardFile.CopyToAsync(buffer, cancellationToken);
            card = buffer.ToArray();
        }

        await using var modelStream = model.OpenReadStream();
        await using var manifestStream = manifest.OpenReadStream();
        var outcome = await registrations.RegisterAsync(new PackageSubmission(name, caller.User, sha256 => links.For(request, sha256), Card: card), modelStream, manifestStream, cancellationToken);
        return outcome.ToResult(card is not null && outcome.Version is { } v ? links.CardFor(request, v.ModelName, v.Version) : null);
    }

    private static IFormFile? FindFile(IFormCollection form, string field, string fileName) =>
        form.Files.GetFile(field) ?? form.Files.GetFile(fileName) ?? form.Files.FirstOrDefault(f => string.Equals(f.FileName, fileName, StringComparison.Ordinal));
}
