using System.Globalization;
using System.Security.Cryptography.X509Certificates;

namespace PdM.Testing;

/// <summary>
/// A device's or gateway's identity on the local Mosquitto's TLS listener, issued by
/// <c>infra/local/deps.sh mqtt-identity</c>: a client certificate of the local CA (PEM and PFX), a password, and an ACL
/// entry that limits what it may publish and read.
/// </summary>
public sealed record MqttIdentity(string Name, string CertificatePath, string KeyPath, string PfxPath, string Password, string CaPath, string Host, int Port)
{
    /// <summary>A device that may publish only <c>pdm/{site}/{asset}/telemetry</c> (and its Sparkplug node, given one).</summary>
    public static MqttIdentity IssueDevice(string name, string site, string asset, string? sparkplugGroupAndNode = null) =>
        Parse(name, LocalDependencies.RunDepsScript($"mqtt-identity issue device {name} {site} {asset} {sparkplugGroupAndNode}".TrimEnd()));

    /// <summary>A gateway that reads the site's telemetry.</summary>
    public static MqttIdentity IssueGateway(string name, string site) =>
        Parse(name, LocalDependencies.RunDepsScript($"mqtt-identity issue gateway {name} {site}"));

    /// <summary>Deletes the identity's password and ACL entry; returns once the broker refuses its login.</summary>
    public void Revoke() => LocalDependencies.RunDepsScript($"mqtt-identity revoke {Name}");

    /// <summary>The client certificate with its private key, as a TLS client presents it.</summary>
    public X509Certificate2 LoadCertificate() => X509CertificateLoader.LoadPkcs12FromFile(PfxPath, null);

    private static MqttIdentity Parse(string name, string output)
    {
        var values = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);
        return new MqttIdentity(name, values["cert"], values["key"], values["pfx"], values["password"], values["ca"], values["host"],
            int.Parse(values["port"], CultureInfo.InvariantCulture));
    }
}
