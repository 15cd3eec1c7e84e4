using PdM.ModelPackage.Signing;

namespace PdM.Demo;

/// <summary>
/// What an operator does before the first deployment (docker-compose.yml: registry-signing.pem and .pub), done by the
/// demo on its own: an ECDSA P-256 key pair under the demo's state folder, the private key for the registry
/// (Registry:Signing:PrivateKeyPath) and the public key for the gateway (Gateway:Deployment:TrustedPublicKeyPaths).
/// A key configured by hand is left alone.
/// </summary>
internal static class DemoSigningKey
{
    public const string PrivateKeyFile = "registry-signing.pem";
    public const string PublicKeyFile = "registry-signing.pub";

    public static void Configure(IConfigurationManager configuration, string stateDirectory)
    {
        if (!string.IsNullOrWhiteSpace(configuration["Registry:Signing:PrivateKeyPath"]) || !string.IsNullOrWhiteSpace(configuration["Registry:Signing:PrivateKeyPem"]))
        {
            return;
        }

        var directory = Path.Combine(stateDirectory, "signing");
        var privatePath = Path.Combine(directory, PrivateKeyFile);
        var publicPath = Path.Combine(directory, PublicKeyFile);
        if (!File.Exists(privatePath) || !File.Exists(publicPath))
        {
            Directory.CreateDirectory(directory);
            using var signer = PackageSigner.Generate();
            File.WriteAllText(privatePath, signer.ExportPrivateKeyPem());
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(privatePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            File.WriteAllText(publicPath, signer.ExportPublicKeyPem());
        }

        var trusted = configuration.GetSection("Gateway:Deployment:TrustedPublicKeyPaths").GetChildren().Count();
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Registry:Signing:PrivateKeyPath"] = privatePath,
            [$"Gateway:Deployment:TrustedPublicKeyPaths:{trusted}"] = publicPath,
        });
    }
}
