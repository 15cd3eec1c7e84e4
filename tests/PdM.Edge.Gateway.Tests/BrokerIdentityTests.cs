using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Edge.Gateway.Mqtt;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// Device identity at the plant broker, on the real Mosquitto's TLS listener (<c>deps.sh mqtt-identity</c>): a client
/// must present a certificate of the local CA and its own password, and the ACL lets a device publish only its own
/// asset's topic. The gateway itself connects over TLS with its client certificate, as a plant's would.
/// </summary>
public sealed class BrokerIdentityTests : IDisposable
{
    private static readonly string[] Assets = ["PUMP-A", "PUMP-B", "PUMP-R", "PUMP-O"];

    // Every identity a test issues is revoked afterwards, so the broker's ACL does not grow with every run.
    private static readonly System.Collections.Concurrent.ConcurrentBag<string> Issued = [];

    [Fact]
    public async Task Anonymous_clients_and_clients_without_their_certificate_or_password_are_refused()
    {
        var site = LocalDependencies.UniqueName("tls");
        var device = MqttIdentity.IssueDevice(Name("dev"), site, "PUMP-1");
        using var certificate = device.LoadCertificate();

        await AssertRefused("anonymous, no certificate", () => Connect(null, null, null));
        await AssertRefused("password, no certificate", () => Connect(null, device.Name, device.Password));
        await AssertRefused("certificate, anonymous", () => Connect(certificate, null, null));
        await AssertRefused("certificate, wrong password", () => Connect(certificate, device.Name, "not-" + device.Password));

        // The same device with its certificate and password gets in: the refusals above are the broker's access control.
        using var accepted = await Connect(certificate, device.Name, device.Password);
        Assert.True(accepted.IsConnected);
    }

    [Fact]
    public async Task A_certificate_from_another_CA_is_refused_even_with_the_devices_name_and_password()
    {
        var site = LocalDependencies.UniqueName("tls");
        var device = MqttIdentity.IssueDevice(Name("dev"), site, "PUMP-1");
        using var rogue = CertificateFromAnotherAuthority(device.Name);

        await AssertRefused("another CA's certificate", () => Connect(rogue, device.Name, device.Password));

        using var genuine = device.LoadCertificate();
        using var accepted = await Connect(genuine, device.Name, device.Password);
        Assert.True(accepted.IsConnected);
    }

    [Fact]
    public async Task A_device_publishing_on_another_assets_topic_never_reaches_the_gateway()
    {
        var site = LocalDependencies.UniqueName("tls");
        var deviceA = MqttIdentity.IssueDevice(Name("dev-a"), site, "PUMP-A");
        MqttIdentity.IssueDevice(Name("dev-b"), site, "PUMP-B");
        await using var gateway = await StartTlsGateway(site);
        using var certificate = deviceA.LoadCertificate();
        using var clientA = await Connect(certificate, deviceA.Name, deviceA.Password);

        var spoofed = await clientA.PublishAsync(Reading(site, "PUMP-B", 0));
        var own = await clientA.PublishAsync(Reading(site, "PUMP-A", 0));

        // The broker says so to the device (MQTT 5 reason code), and the gateway sees only the device's own reading:
        // the spoofed one was published first, so had it been delivered it would have arrived first.
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, spoofed.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.Success, own.ReasonCode);
        await Eventually.Until(() => Task.FromResult(gateway.Metrics.Total("pdm.ingest.processed")), n => n >= 1, TimeSpan.FromSeconds(30), "device A's own reading processed");
        Assert.Equal(1, gateway.Metrics.Total("pdm.ingest.messages"));
        Assert.Equal(1, gateway.Metrics.Total("pdm.ingest.accepted"));
    }

    [Fact]
    public async Task A_revoked_device_is_cut_off_its_connection_closed_and_its_login_refused()
    {
        var site = LocalDependencies.UniqueName("tls");
        var revoked = MqttIdentity.IssueDevice(Name("dev-r"), site, "PUMP-R");
        var other = MqttIdentity.IssueDevice(Name("dev-o"), site, "PUMP-O");
        await using var gateway = await StartTlsGateway(site);
        using var revokedCertificate = revoked.LoadCertificate();
        using var otherCertificate = other.LoadCertificate();
        using var clientR = await Connect(revokedCertificate, revoked.Name, revoked.Password);
        using var clientO = await Connect(otherCertificate, other.Name, other.Password);

        Assert.Equal(MqttClientPublishReasonCode.Success, (await clientR.PublishAsync(Reading(site, "PUMP-R", 0))).ReasonCode);
        await Eventually.Until(() => Task.FromResult(gateway.Metrics.Total("pdm.ingest.processed")), n => n >= 1, TimeSpan.FromSeconds(30), "the device's reading before revocation");

        revoked.Revoke();

        // Its open connection no longer carries anything to the gateway...
        try
        {
            var after = await clientR.PublishAsync(Reading(site, "PUMP-R", 1));
            Assert.NotEqual(MqttClientPublishReasonCode.Success, after.ReasonCode);
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttClientNotConnectedException or MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
        {
            // The broker closed the connection at the reload: the publish fails on the device.
        }

        // ...and it cannot log in again with its certificate and password.
        await AssertRefused("revoked device", () => Connect(revokedCertificate, revoked.Name, revoked.Password));

        // Another device's reading, published after, arrives alone: nothing of the revoked device came through.
        Assert.Equal(MqttClientPublishReasonCode.Success, (await clientO.PublishAsync(Reading(site, "PUMP-O", 0))).ReasonCode);
        await Eventually.Until(() => Task.FromResult(gateway.Metrics.Total("pdm.ingest.processed")), n => n >= 2, TimeSpan.FromSeconds(30), "the other device's reading");
        Assert.Equal(2, gateway.Metrics.Total("pdm.ingest.messages"));
    }

    /// <summary>A gateway on the TLS listener only: its client certificate and password, the local CA as its only trust.</summary>
    private static async Task<GatewayUnderTest> StartTlsGateway(string site)
    {
        var identity = MqttIdentity.IssueGateway(Name("gw"), site);
        var gateway = await GatewayUnderTest.StartAsync(site,
        [
            $"--Gateway:Mqtt:Port={identity.Port}",
            "--Gateway:Mqtt:UseTls=true",
            $"--Gateway:Mqtt:CaCertificatePath={identity.CaPath}",
            $"--Gateway:Mqtt:ClientCertificatePath={identity.PfxPath}",
            $"--Gateway:Mqtt:Username={identity.Name}",
            $"--Gateway:Mqtt:Password={identity.Password}",
            $"--Gateway:Mqtt:TopicFilters:0=pdm/{site}/+/telemetry",
            "--Gateway:SparkplugHost=false",
            "--Ingestion:MaxPastAge=1.00:00:00",
            .. Assets.SelectMany((asset, i) => new[]
            {
                $"--AssetModel:Assets:{i}:Id={asset}",
                $"--AssetModel:Assets:{i}:AssetClass=centrifugal-pump",
                $"--AssetModel:Assets:{i}:Sensors:0:Id=vibration_rms_mm_s",
                $"--AssetModel:Assets:{i}:Sensors:0:Unit=mm/s",
                $"--AssetModel:Assets:{i}:Sensors:0:ValidMin=0",
                $"--AssetModel:Assets:{i}:Sensors:0:ValidMax=100",
            }),
        ]);
        await Eventually.Until(() => Task.FromResult(gateway.Metrics.Total("pdm.mqtt.connections", "outcome", "new_session")), n => n > 0, TimeSpan.FromSeconds(30),
            "the gateway's TLS session with its client certificate");
        return gateway;
    }

    private static string Name(string prefix)
    {
        var name = LocalDependencies.UniqueName(prefix);
        Issued.Add(name);
        return name;
    }

    public void Dispose()
    {
        while (Issued.TryTake(out var name))
        {
            LocalDependencies.RunDepsScript($"mqtt-identity revoke {name}"); // a no-op for one a test revoked itself
        }
    }

    private static async Task<IMqttClient> Connect(X509Certificate2? certificate, string? username, string? password)
    {
        var authority = X509CertificateLoader.LoadCertificateFromFile(LocalDependencies.TlsCaPath);
        var client = new MqttClientFactory().CreateMqttClient();
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", LocalDependencies.MqttTlsPort)
            .WithClientId(LocalDependencies.UniqueName("c"))
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithTlsOptions(tls =>
            {
                tls.UseTls().WithTargetHost("127.0.0.1")
                    .WithCertificateValidationHandler(args => BrokerTls.ChainsTo(args.Certificate, args.SslPolicyErrors, authority));
                if (certificate is not null)
                {
                    tls.WithClientCertificates([certificate]);
                }
            });
        if (username is not null)
        {
            builder.WithCredentials(username, password);
        }

        try
        {
            var result = await client.ConnectAsync(builder.Build());
            if (result.ResultCode != MqttClientConnectResultCode.Success || !client.IsConnected)
            {
                // MQTTnet returns (rather than throws) some MQTT 5 refusals, e.g. 0x87 Not authorized.
                throw new BrokerRefusedException($"CONNACK {result.ResultCode} ({result.ReasonString})");
            }

            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>The broker refuses: a failed TLS handshake or a CONNACK that is not success, never a session.</summary>
    private static async Task AssertRefused(string what, Func<Task<IMqttClient>> connect)
    {
        Exception? refused = null;
        try
        {
            using var client = await connect();
        }
        catch (Exception e)
        {
            refused = e;
        }

        Assert.True(refused is MQTTnet.Exceptions.MqttCommunicationException or MQTTnet.Adapter.MqttConnectingFailedException or BrokerRefusedException,
            $"{what}: expected a refused connection, got {(refused is null ? "a session" : refused.GetType().Name + ": " + refused.Message)}");
    }

    /// <summary>A client certificate named like the device, signed by a CA the broker has never seen.</summary>
    private static X509Certificate2 CertificateFromAnotherAuthority(string commonName)
    {
        using var authorityKey = RSA.Create(2048);
        var authorityRequest = new CertificateRequest("CN=rogue CA", authorityKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        authorityRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var authority = authorityRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=" + commonName, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var signed = request.Create(authority, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), RandomNumberGenerator.GetBytes(16));
        using var withKey = signed.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pfx), null);
    }

    private static MqttApplicationMessage Reading(string site, string asset, int k) => new MqttApplicationMessageBuilder()
        .WithTopic($"pdm/{site}/{asset}/telemetry")
        .WithPayload(Encoding.UTF8.GetBytes(FormattableString.Invariant(
            $"{{\"schemaVersion\":1,\"asset\":\"{asset}\",\"deviceTime\":\"{DateTimeOffset.UtcNow.AddSeconds(k - 10):yyyy-MM-ddTHH:mm:ss.fffZ}\",\"readings\":{{\"vibration_rms_mm_s\":{2 + k}}}}}")))
        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
        .Build();

    private sealed class BrokerRefusedException(string message) : Exception(message);
}
