using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.ModelPackage.Signing;

namespace PdM.Registry.Signing;

/// <summary>
/// The registry's ECDSA P-256 signing key, from <c>Registry:Signing:PrivateKeyPem</c> or <c>PrivateKeyPath</c>. With
/// neither, Development generates a key into <c>{StateDirectory}/signing/dev-signing-key.pem</c> (kept across
/// restarts); any other environment refuses to start: an unsigned or self-signed production is not a default.
/// </summary>
public sealed partial class RegistrySigningKey : IDisposable
{
    public RegistrySigningKey(IOptions<RegistryOptions> options, RegistryPaths paths, IHostEnvironment environment, ILogger<RegistrySigningKey> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(environment);
        var signing = options.Value.Signing;
        if (!string.IsNullOrWhiteSpace(signing.PrivateKeyPem))
        {
            Signer = PackageSigner.FromPrivateKeyPem(signing.PrivateKeyPem);
            Source = "Registry:Signing:PrivateKeyPem";
        }
        else if (!string.IsNullOrWhiteSpace(signing.PrivateKeyPath))
        {
            if (!File.Exists(signing.PrivateKeyPath))
            {
                throw new InvalidOperationException($"Registry:Signing:PrivateKeyPath names '{signing.PrivateKeyPath}', which does not exist");
            }

            Signer = PackageSigner.FromPrivateKeyPem(File.ReadAllText(signing.PrivateKeyPath));
            Source = signing.PrivateKeyPath;
        }
        else if (environment.IsDevelopment())
        {
            var path = Path.Combine(paths.StateDirectory, "signing", "dev-signing-key.pem");
            if (File.Exists(path))
            {
                Signer = PackageSigner.FromPrivateKeyPem(File.ReadAllText(path));
            }
            else
            {
                Signer = PackageSigner.Generate();
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, Signer.ExportPrivateKeyPem());
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }

            Source = path + " (development key)";
            LogDevelopmentKey(logger, path, Signer.KeyId);
        }
        else
        {
            throw new InvalidOperationException(
                "The registry has no signing key: set Registry:Signing:PrivateKeyPem or Registry:Signing:PrivateKeyPath " +
                "(ECDSA P-256, PEM). Only Development generates a key on its own.");
        }
    }

    public PackageSigner Signer { get; }

    public string Source { get; }

    public void Dispose() => Signer.Dispose();

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Registry signing with a generated DEVELOPMENT key {Path} (key id {KeyId}); configure Registry:Signing for any real deployment")]
    private static partial void LogDevelopmentKey(ILogger logger, string path, string keyId);
}

/// <summary>Resolved folders of the registry's state.</summary>
public sealed class RegistryPaths
{
    public RegistryPaths(IOptions<RegistryOptions> options, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        var state = options.Value.StateDirectory;
        if (string.IsNullOrWhiteSpace(state))
        {
            var root = Environment.GetEnvironmentVariable("PDM_STATE_DIR");
            state = string.IsNullOrWhiteSpace(root) ? Path.Combine(environment.ContentRootPath, ".state", "registry") : Path.Combine(root, "registry");
        }

        StateDirectory = Path.GetFullPath(state);
        ArtifactsDirectory = Path.GetFullPath(string.IsNullOrWhiteSpace(options.Value.ArtifactsPath) ? Path.Combine(StateDirectory, "artifacts") : options.Value.ArtifactsPath);
    }

    public string StateDirectory { get; }

    public string ArtifactsDirectory { get; }
}
