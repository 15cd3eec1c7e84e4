using System.Security.Cryptography;
using System.Text;

namespace PdM.Features;

/// <summary>
/// The identity of a feature spec: <c>sha256:</c> + lower-case hex of its canonical JSON (<see cref="FeatureSpec.ToJson"/>).
/// Equal digests mean equal features, so the gateway, the feature store and the model package compare specs by it.
/// </summary>
public static class FeatureSpecDigest
{
    /// <summary>The prefix every digest carries, naming the hash.</summary>
    public const string Prefix = "sha256:";

    public static string Compute(FeatureSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return Prefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(spec.ToJson())));
    }
}
