using System.Text.Json;
using PdM.Features;

namespace PdM.ModelPackage;

/// <summary>The feature spec a manifest carries, read without loading the model (compatibility checks before a load).</summary>
public static class ManifestFeatureSpec
{
    /// <summary>The manifest's <c>featureSpec</c>; null when the manifest or its spec cannot be read (the loader names why).</summary>
    public static FeatureSpec? Read(ReadOnlyMemory<byte> manifestJson)
    {
        try
        {
            using var document = JsonDocument.Parse(manifestJson);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("featureSpec", out var spec) && spec.ValueKind == JsonValueKind.Object
                ? FeatureSpec.Parse(spec.GetRawText())
                : null;
        }
        catch (Exception ex) when (ex is JsonException or FeatureSpecException)
        {
            return null;
        }
    }
}
