using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using MQTTnet;

namespace PdM.Edge.Gateway.Mqtt;

/// <summary>
/// TLS to the plant broker (<c>Gateway:Mqtt:UseTls</c>): the broker's certificate must chain to
/// <c>CaCertificatePath</c> when one is named (a plant CA is rarely in the system store) or to the system store
/// otherwise, and must name the host we dialled; the gateway presents <c>ClientCertificatePath</c> when the broker
/// authenticates clients by certificate. Files are read at every connect, so a renewed certificate needs no restart.
/// </summary>
public static class BrokerTls
{
    public static void Configure(MqttClientTlsOptionsBuilder tls, MqttConnectionOptions mqtt)
    {
        ArgumentNullException.ThrowIfNull(tls);
        ArgumentNullException.ThrowIfNull(mqtt);
        tls.UseTls().WithTargetHost(mqtt.Host);
        if (!string.IsNullOrEmpty(mqtt.ClientCertificatePath))
        {
            var certificate = X509CertificateLoader.LoadPkcs12FromFile(mqtt.ClientCertificatePath, mqtt.ClientCertificatePassword);
            tls.WithClientCertificates([certificate]);
        }

        if (!string.IsNullOrEmpty(mqtt.CaCertificatePath))
        {
            var authority = X509CertificateLoader.LoadCertificateFromFile(mqtt.CaCertificatePath);
            tls.WithCertificateValidationHandler(args => ChainsTo(args.Certificate, args.SslPolicyErrors, authority));
        }
    }

    /// <summary>
    /// The server certificate names the host (no <see cref="SslPolicyErrors.RemoteCertificateNameMismatch"/>) and
    /// chains to <paramref name="authority"/> alone: the system store is not consulted, so a certificate from any
    /// other CA is refused even when that CA is publicly trusted.
    /// </summary>
    public static bool ChainsTo(X509Certificate? presented, SslPolicyErrors errors, X509Certificate2 authority)
    {
        ArgumentNullException.ThrowIfNull(authority);
        if (presented is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return false;
        }

        using var certificate = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        // A private plant CA publishes no CRL/OCSP endpoint; revocation of devices is the broker's job.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}

/// <summary>Fails the start when the TLS settings of <c>Gateway:Mqtt</c> cannot work (ValidateOnStart).</summary>
public sealed class BrokerTlsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var mqtt = options.Mqtt;
        var problems = new List<string>();
        if (!mqtt.UseTls)
        {
            if (!string.IsNullOrEmpty(mqtt.ClientCertificatePath) || !string.IsNullOrEmpty(mqtt.CaCertificatePath))
            {
                problems.Add("Gateway:Mqtt:ClientCertificatePath/CaCertificatePath are set but UseTls is false: the certificates would never be used");
            }

            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }

        if (!string.IsNullOrEmpty(mqtt.ClientCertificatePath))
        {
            try
            {
                using var certificate = X509CertificateLoader.LoadPkcs12FromFile(mqtt.ClientCertificatePath, mqtt.ClientCertificatePassword);
                if (!certificate.HasPrivateKey)
                {
                    problems.Add($"Gateway:Mqtt:ClientCertificatePath '{mqtt.ClientCertificatePath}' holds no private key");
                }
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
            {
                problems.Add($"Gateway:Mqtt:ClientCertificatePath '{mqtt.ClientCertificatePath}' is not a readable PKCS#12 file (with ClientCertificatePassword): {e.Message}");
            }
        }

        if (!string.IsNullOrEmpty(mqtt.CaCertificatePath))
        {
            try
            {
                using var authority = X509CertificateLoader.LoadCertificateFromFile(mqtt.CaCertificatePath);
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
            {
                problems.Add($"Gateway:Mqtt:CaCertificatePath '{mqtt.CaCertificatePath}' is not a readable PEM/DER certificate: {e.Message}");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
