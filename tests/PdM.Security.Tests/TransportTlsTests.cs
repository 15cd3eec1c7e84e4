using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Npgsql;
using PdM.Testing;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

using PdM.Edge.Gateway.Mqtt;

namespace PdM.Security.Tests;

/// <summary>
/// PostgreSQL and RabbitMQ over TLS on the local servers (<c>deps.sh</c> gives both a server certificate of the local
/// CA): a client that trusts that CA gets an encrypted, verified connection; a client that trusts another CA is
/// refused the connection, so the certificate really is checked.
/// </summary>
public sealed class TransportTlsTests
{
    [Fact]
    public async Task PostgreSql_over_tls_verifies_the_server_against_the_CA_and_refuses_another()
    {
        var builder = new NpgsqlConnectionStringBuilder(LocalDependencies.PostgresAdmin)
        {
            SslMode = SslMode.VerifyFull,
            RootCertificate = LocalDependencies.TlsCaPath,
            Host = "localhost", // the server certificate names localhost and 127.0.0.1; VerifyFull checks the name
            Pooling = false,
        };
        await using (var connection = new NpgsqlConnection(builder.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()", connection);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.True(reader.GetBoolean(0), "the session is not encrypted");
            Assert.StartsWith("TLS", reader.GetString(1), StringComparison.Ordinal);
        }

        var rogue = WriteRogueAuthority();
        try
        {
            builder.RootCertificate = rogue;
            await using var refused = new NpgsqlConnection(builder.ConnectionString);
            var failure = await Assert.ThrowsAnyAsync<Exception>(() => refused.OpenAsync());
            Assert.True(failure is AuthenticationException || failure.InnerException is AuthenticationException,
                $"expected a failed certificate check, got {failure.GetType().Name}: {failure.Message}");
        }
        finally
        {
            File.Delete(rogue);
        }
    }

    [Fact]
    public async Task RabbitMq_over_amqps_verifies_the_server_against_the_CA_and_refuses_another()
    {
        using var authority = X509CertificateLoader.LoadCertificateFromFile(LocalDependencies.TlsCaPath);
        await using (var connection = await Factory(authority).CreateConnectionAsync())
        {
            Assert.True(connection.IsOpen);
            await using var channel = await connection.CreateChannelAsync();
            Assert.True(channel.IsOpen);
        }

        using var rogue = RogueAuthority();
        var failure = await Assert.ThrowsAnyAsync<BrokerUnreachableException>(() => Factory(rogue).CreateConnectionAsync());
        Assert.Contains(Flatten(failure), e => e is AuthenticationException);
    }

    /// <summary>AMQPS to the local node as user pdm, trusting <paramref name="authority"/> alone.</summary>
    private static ConnectionFactory Factory(X509Certificate2 authority)
    {
        var uri = LocalDependencies.RabbitMqUri;
        return new ConnectionFactory
        {
            HostName = "localhost",
            Port = LocalDependencies.RabbitMqTlsPort,
            UserName = Uri.UnescapeDataString(uri.UserInfo.Split(':')[0]),
            Password = Uri.UnescapeDataString(uri.UserInfo.Split(':')[1]),
            AutomaticRecoveryEnabled = false,
            Ssl = new SslOption
            {
                Enabled = true,
                ServerName = "localhost",
                CertificateValidationCallback = (_, certificate, _, errors) => BrokerTls.ChainsTo(certificate, errors, authority),
            },
        };
    }

    private static IEnumerable<Exception> Flatten(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten))
                {
                    yield return inner;
                }
            }
        }
    }

    private static X509Certificate2 RogueAuthority()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=rogue CA", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static string WriteRogueAuthority()
    {
        using var rogue = RogueAuthority();
        var path = Path.Combine(Path.GetTempPath(), "pdm-rogue-ca-" + Guid.NewGuid().ToString("N") + ".crt");
        File.WriteAllText(path, rogue.ExportCertificatePem());
        return path;
    }
}
