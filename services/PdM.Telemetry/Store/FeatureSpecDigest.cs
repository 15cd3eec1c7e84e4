using System.Security.Cryptography;
using System.Text;
using PdM.Features;

namespace PdM.Telemetry.Store;

/// <summary>The identity of a feature spec: <c>sha256:</c> + hex of its canonical JSON (<see cref="FeatureSpec.ToJson"/>).</summary>
public static class FeatureSpecDigest
{
    public static string Compute(FeatureSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(spec.ToJson())));
    }
}
