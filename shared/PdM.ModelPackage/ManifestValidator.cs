using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PdM.Features;

namespace PdM.ModelPackage;

/// <summary>Parses manifest.json and checks that its parts agree with each other (not yet with the model).</summary>
public static partial class ManifestValidator
{
    public static (ModelManifest? Manifest, FeatureSpec? Spec, PackageRejection? Rejection) Parse(byte[] manifestJson)
    {
        ArgumentNullException.ThrowIfNull(manifestJson);
        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(manifestJson, ModelManifestJsonContext.Default.ModelManifest);
        }
        catch (JsonException ex)
        {
            return (null, null, Invalid("manifest.json is not a valid manifest: " + ex.Message));
        }

        if (manifest is null)
        {
            return (null, null, Invalid("manifest.json is null"));
        }

        FeatureSpec spec;
        try
        {
            spec = FeatureSpec.Parse(manifest.FeatureSpec.GetRawText());
        }
        catch (FeatureSpecException ex)
        {
            return (null, null, Invalid("featureSpec: " + ex.Message));
        }

        var problem = Check(manifest, spec);
        return problem is null ? (manifest, spec, null) : (null, null, Invalid(problem));
    }

    [GeneratedRegex(@"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex SemVer();

    private static string? Check(ModelManifest m, FeatureSpec spec)
    {
        var features = spec.Features.Count;
        if (m.SchemaVersion != ModelManifest.CurrentSchemaVersion)
        {
            return F($"schemaVersion {m.SchemaVersion} is not supported (expected {ModelManifest.CurrentSchemaVersion})");
        }

        if (string.IsNullOrWhiteSpace(m.Name) || string.IsNullOrWhiteSpace(m.AssetClass))
        {
            return "name and assetClass must not be empty";
        }

        if (!SemVer().IsMatch(m.Version))
        {
            return "version '" + m.Version + "' is not a semantic version (major.minor.patch)";
        }

        if (m.Input.ElementType != TensorElementKind.Float32)
        {
            return "input.elementType must be float32";
        }

        if (m.Input.Shape.Count != 2 || m.Input.Shape[0] != -1 || m.Input.Shape[1] != features)
        {
            return F($"input.shape must be [-1, {features}] (dynamic batch × the feature spec's {features} features)");
        }

        if (m.Outputs.Count == 0)
        {
            return "outputs is empty";
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var deciding = 0;
        foreach (var output in m.Outputs)
        {
            if (!names.Add(output.Name))
            {
                return "output '" + output.Name + "' is listed twice";
            }

            var expectedType = output.Meaning == OutputMeaning.Label ? output.ElementType : TensorElementKind.Float32;
            if (output.ElementType != expectedType)
            {
                return "output '" + output.Name + "' must be float32";
            }

            switch (output.Meaning)
            {
                case OutputMeaning.FailureProbability:
                    deciding++;
                    if (m.Thresholds.FailureProbabilityWatch is null && m.Thresholds.FailureProbabilityAlert is null &&
                        m.Thresholds.FailureProbabilityDanger is null)
                    {
                        return "output '" + output.Name + "' is a failure probability but thresholds has no failureProbability level";
                    }

                    break;
                case OutputMeaning.FailureModeClass:
                    deciding++;
                    if (output.Classes is not { Count: >= 2 } || output.NormalClass is null || !Contains(output.Classes, output.NormalClass))
                    {
                        return "output '" + output.Name + "' (failureModeClass) needs at least two classes and a normalClass among them";
                    }

                    break;
                case OutputMeaning.RulCycles or OutputMeaning.RulHours:
                    deciding++;
                    if (m.Thresholds.RulWatch is null && m.Thresholds.RulAlert is null && m.Thresholds.RulDanger is null)
                    {
                        return "output '" + output.Name + "' is a RUL but thresholds has no rul level";
                    }

                    break;
                default:
                    break;
            }
        }

        if (m.FailureMode is { } mode && (mode.Length is < 2 or > 8 || !mode.All(c => c is >= 'A' and <= 'Z' or >= '0' and <= '9')))
        {
            return "failureMode '" + mode + "' is not an ISO 14224 failure-mode code (2 to 8 upper-case letters or digits, e.g. PDE, BRD, VIB)";
        }

        if (deciding == 0)
        {
            return "no output has a deciding meaning (failureProbability, failureModeClass, rulCycles, rulHours)";
        }

        if (m.FeatureStatistics.Count != features)
        {
            return F($"featureStatistics has {m.FeatureStatistics.Count} entries; the feature spec has {features} features");
        }

        for (var i = 0; i < features; i++)
        {
            var s = m.FeatureStatistics[i];
            if (s.Name != spec.Features[i].Name)
            {
                return F($"featureStatistics[{i}] is '{s.Name}' but feature {i} is '{spec.Features[i].Name}'");
            }

            if (!double.IsFinite(s.Min) || !double.IsFinite(s.Max) || s.Min > s.Max || !(s.Std >= 0))
            {
                return F($"featureStatistics[{i}] ('{s.Name}') needs finite min ≤ max and std ≥ 0");
            }
        }

        if (m.TrainingDistribution?.Problem(FeatureNames(spec)) is { } distributionProblem)
        {
            return distributionProblem;
        }

        if (!(m.GoldenVectors.Tolerance >= 0) || !double.IsFinite(m.GoldenVectors.Tolerance))
        {
            return "goldenVectors.tolerance must be a finite number ≥ 0";
        }

        for (var i = 0; i < m.GoldenVectors.Cases.Count; i++)
        {
            var c = m.GoldenVectors.Cases[i];
            if (c.Input.Count != features)
            {
                return F($"goldenVectors.cases[{i}].input has {c.Input.Count} values; the feature spec has {features}");
            }

            foreach (var name in c.Outputs.Keys)
            {
                if (!names.Contains(name))
                {
                    return F($"goldenVectors.cases[{i}] expects output '{name}', which is not in outputs");
                }
            }
        }

        return null;
    }

    private static string[] FeatureNames(FeatureSpec spec)
    {
        var names = new string[spec.Features.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = spec.Features[i].Name;
        }

        return names;
    }

    private static bool Contains(IReadOnlyList<string> list, string value)
    {
        foreach (var item in list)
        {
            if (item == value)
            {
                return true;
            }
        }

        return false;
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static PackageRejection Invalid(string detail) => new(PackageRejectionReason.ManifestInvalid, detail);
}
