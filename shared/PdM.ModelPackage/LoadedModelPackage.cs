using Microsoft.ML.OnnxRuntime;
using PdM.Features;

namespace PdM.ModelPackage;

/// <summary>
/// A package that passed every check, with the ONNX Runtime session it was validated on. Owns the session:
/// dispose the package to release it.
/// </summary>
public sealed class LoadedModelPackage : IDisposable
{
    internal LoadedModelPackage(ModelManifest manifest, FeatureSpec featureSpec, string digest, string source, long modelBytes, InferenceSession session)
    {
        Manifest = manifest;
        FeatureSpec = featureSpec;
        Digest = digest;
        Source = source;
        ModelBytes = modelBytes;
        Session = session;
    }

    public ModelManifest Manifest { get; }

    public FeatureSpec FeatureSpec { get; }

    /// <summary>SHA-256 package digest, lower-case hex (see <see cref="PackageDigest"/>).</summary>
    public string Digest { get; }

    /// <summary>The path the package was loaded from.</summary>
    public string Source { get; }

    public long ModelBytes { get; }

    public InferenceSession Session { get; }

    public int FeatureCount => FeatureSpec.Features.Count;

    public override string ToString() => Manifest.Name + "@" + Manifest.Version + " (" + Digest[..12] + ")";

    public void Dispose() => Session.Dispose();
}
