using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;
using PdM.Registry.Artifacts;
using PdM.Registry.Signing;

namespace PdM.Registry.Api;

internal static class ArtifactEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        // Content-addressed, so immutable: the ETag is the address, and ranges let a gateway on a poor link resume.
        endpoints.MapGet("/api/artifacts/{sha256}", async (string sha256, IArtifactStore store, CancellationToken cancellationToken) =>
        {
            if (!ArtifactAddress.IsValid(sha256))
            {
                return RegistryProblems.BadRequest("invalid_address", $"'{sha256}' is not a SHA-256 address (64 lower-case hex characters)");
            }

            var info = await store.FindAsync(sha256, cancellationToken);
            var stream = info is null ? null : await store.OpenReadAsync(sha256, cancellationToken);
            if (info is null || stream is null)
            {
                return RegistryProblems.Problem(StatusCodes.Status404NotFound, "not_found", "No such artifact", $"no artifact {sha256}");
            }

            return Results.File(stream, "application/zip", fileDownloadName: null, lastModified: info.StoredAt,
                entityTag: new EntityTagHeaderValue($"\"{sha256}\""), enableRangeProcessing: true);
        }).WithTags("Artifacts");

        // The public key gateways are configured with (Gateway signature verification); public by nature.
        endpoints.MapGet("/api/signing/public-key", (RegistrySigningKey key) =>
            Results.Text(key.Signer.ExportPublicKeyPem(), "application/x-pem-file")).WithTags("Artifacts");
    }
}
