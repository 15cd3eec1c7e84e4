using PdM.Contracts.Registry;
using PdM.Edge.Gateway.Pipeline;
using PdM.Edge.Ingestion.Model;
using PdM.Features;

namespace PdM.Edge.Gateway.Deployment;

/// <summary>
/// Which of this gateway's assets of a class a model can decide for: the features the gateway computes for the class
/// must be the model's (by name, in order: what the scorer matches every row on), and the asset must report every sensor
/// the model's features read. The rest keep the rules for the class (<c>feature_mismatch</c>).
/// </summary>
public sealed class FeatureCoverage(AssetModel assets, FeatureSpecCatalog catalog)
{
    /// <summary>The assets of <paramref name="assetClass"/> here, split into those that can decide and those that fall back, with why.</summary>
    public FeatureCoverageResult Check(string assetClass, FeatureSpec modelSpec)
    {
        ArgumentNullException.ThrowIfNull(assetClass);
        ArgumentNullException.ThrowIfNull(modelSpec);
        var computed = catalog.For(assetClass);
        var sameFeatures = computed.FeatureNames.SequenceEqual(modelSpec.Features.Select(f => f.Name), StringComparer.Ordinal);
        var deciding = 0;
        var fallback = new List<AssetSensorCoverage>();
        foreach (var asset in assets.Assets)
        {
            if (!string.Equals(asset.AssetClass, assetClass, StringComparison.Ordinal))
            {
                continue;
            }

            var missing = modelSpec.MissingSensors(asset.Sensors.Select(s => s.Id));
            if (sameFeatures && missing.Count == 0)
            {
                deciding++;
            }
            else
            {
                fallback.Add(new AssetSensorCoverage { AssetId = asset.Id, MissingSensors = missing });
            }
        }

        return new FeatureCoverageResult(deciding, fallback, sameFeatures ? null : computed.Name);
    }
}

/// <param name="Deciding">Assets of the class the model decides for.</param>
/// <param name="Fallback">Assets of the class that keep the rules, each with the sensors it lacks (possibly none, when the features differ).</param>
/// <param name="OtherSpec">The name of the feature spec the gateway computes for the class when it is not the model's; null when it is.</param>
public sealed record FeatureCoverageResult(int Deciding, IReadOnlyList<AssetSensorCoverage> Fallback, string? OtherSpec)
{
    /// <summary>Assets of the class on this gateway at all.</summary>
    public int Assets => Deciding + Fallback.Count;

    /// <summary>Why the assets fall back, for people: the spec, or per asset the missing sensors.</summary>
    public string Describe(string assetClass, int modelFeatures)
    {
        var parts = new List<string>();
        if (OtherSpec is not null)
        {
            parts.Add($"this gateway computes the features of spec '{OtherSpec}' for {assetClass}, not the {modelFeatures} features the model reads");
        }

        var lacking = Fallback.Where(a => a.MissingSensors.Count > 0).Select(a => $"{a.AssetId} lacks {string.Join(", ", a.MissingSensors)}").ToList();
        if (lacking.Count > 0)
        {
            parts.Add(string.Join("; ", lacking));
        }

        return string.Join("; ", parts);
    }
}
