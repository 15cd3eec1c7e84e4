using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Net;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PdM.Edge.Gateway;
using PdM.Host;
using PdM.ModelPackage.Signing;
using PdM.Testing;
using Xunit.Abstractions;

namespace PdM.Security.Tests;

/// <summary>Alone: the listener sees every connection of the test process, so no other test may run beside it.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OutboundConnectionSuite
{
    public const string Name = "outbound-connections";
}

/// <summary>
/// The cloud host (every module) and a gateway, on the real PostgreSQL, RabbitMQ and Mosquitto with an OTLP endpoint
/// configured, run for longer than MassTransit's earliest usage report (30 s after the bus starts, which this test
/// asks for): every name the process resolves and every TCP connection it opens (the runtime's own
/// System.Net.NameResolution and System.Net.Sockets events, whoever opens them) must be one of those configured
/// endpoints or the host's own port. MassTransit's usage telemetry, on by default, would resolve
/// usage-tracking.masstransit.io and fail this.
/// </summary>
[Collection(OutboundConnectionSuite.Name)]
public sealed class OutboundConnectionTests(ITestOutputHelper output)
{
    /// <summary>MassTransit's floor for its report delay: the test runs past it.</summary>
    private static readonly TimeSpan UsageReportFloor = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_host_and_the_gateway_connect_only_to_their_configured_broker_bus_database_and_OTLP_endpoints()
    {
        using var listener = new ConnectionListener();
        var state = Path.Combine(Path.GetTempPath(), "pdm-outbound-" + Guid.NewGuid().ToString("N"));
        await using var database = await TestDatabase.CreateAsync("outbound");
        var vhost = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("outbound"));
        var rabbit = PdM.Messaging.RabbitMqEndpoint.Parse(vhost);
        using var otlp = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        otlp.Start();
        var otlpPort = ((IPEndPoint)otlp.LocalEndpoint).Port;
        var postgres = new Npgsql.NpgsqlConnectionStringBuilder(database.ConnectionString);
        using var signer = PackageSigner.Generate();
        using var tokens = new TestTokenIssuer();
        string[] common =
        [
            $"--ConnectionStrings:Postgres={database.ConnectionString}",
            "--Messaging:Transport=RabbitMq",
            $"--Messaging:RabbitMq:Uri={vhost}",
            "--Urls=http://127.0.0.1:0",
            $"--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{otlpPort}",
        ];
        string[] cloud =
        [
            .. common,
            "--environment=Production",
            "--PdM:Modules=all",
            $"--Registry:StateDirectory={Path.Combine(state, "registry")}",
            $"--Registry:Signing:PrivateKeyPem={signer.ExportPrivateKeyPem()}",
            $"--Training:ModelStorePath={Path.Combine(state, "models")}",
            .. tokens.Arguments,
        ];
        Assert.Equal(0, await MigrateCommand.RunAsync(cloud));

        // The earliest report MassTransit allows, so a usage telemetry that is on would show within this test.
        void ReportEarly(WebApplicationBuilder builder) => builder.Services.Configure<UsageTelemetryOptions>(o => o.ReportDelay = UsageReportFloor);
        var host = HostComposition.Build(cloud, ReportEarly);
        var gateway = GatewayApplication.Build(
            [
                .. common,
                $"--Gateway:SiteId=outbound-{Guid.NewGuid():N}"[..40],
                $"--Gateway:Mqtt:Host={LocalDependencies.MqttHost}",
                $"--Gateway:Mqtt:Port={LocalDependencies.MqttPort}",
                "--Gateway:HeartbeatSeconds=1",
                $"--Journal:Path={Path.Combine(state, "journal.db")}",
                .. TestGatewayArguments.Pumps(["PUMP-1"]),
            ],
            ReportEarly);
        var ownPorts = new List<int>();
        try
        {
            await host.StartAsync();
            await gateway.StartAsync();
            ownPorts.Add(Port(host));
            ownPorts.Add(Port(gateway));
            await Task.Delay(UsageReportFloor + TimeSpan.FromSeconds(10));
        }
        finally
        {
            await gateway.StopAsync();
            await host.StopAsync();
            await gateway.DisposeAsync();
            await host.DisposeAsync();
        }

        var allowedPorts = new HashSet<int>
        {
            postgres.Port, rabbit.Port, LocalDependencies.MqttPort, otlpPort,
        };
        allowedPorts.UnionWith(ownPorts);
        // "" is the machine's own addresses (Dns.GetHostEntry("")), not a name on the network.
        var allowedNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { postgres.Host!, rabbit.Host, LocalDependencies.MqttHost, "127.0.0.1", "localhost", Dns.GetHostName(), "" };
        var connections = listener.Connections.ToList();
        var resolutions = listener.Resolutions.ToList();
        output.WriteLine("resolved: " + string.Join(", ", resolutions.Distinct()));
        output.WriteLine("connected: " + string.Join(", ", connections.Distinct()));

        // The listener works: the configured database and bus were seen.
        Assert.Contains(connections, c => c.Port == postgres.Port);
        Assert.Contains(connections, c => c.Port == rabbit.Port);
        Assert.Empty(resolutions.Where(name => !allowedNames.Contains(name)).Distinct());
        Assert.Empty(connections.Where(c => !IPAddress.IsLoopback(c.Address) || !allowedPorts.Contains(c.Port)).Distinct());
    }

    private static int Port(WebApplication app) =>
        new Uri(ListeningAddress.Of(app)).Port;

    /// <summary>The runtime's own network events: every DNS resolution and every socket connect of this process.</summary>
    private sealed class ConnectionListener : EventListener
    {
        public ConcurrentQueue<IPEndPoint> Connections { get; } = new();

        public ConcurrentQueue<string> Resolutions { get; } = new();

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name is "System.Net.Sockets" or "System.Net.NameResolution")
            {
                EnableEvents(eventSource, EventLevel.Informational, EventKeywords.All);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.Payload is not { Count: > 0 } payload || payload[0] is not string value)
            {
                return;
            }

            if (eventData.EventName == "ResolutionStart")
            {
                Resolutions.Enqueue(value);
            }
            else if (eventData.EventName == "ConnectStart" && Parse(value) is { } endpoint)
            {
                Connections.Enqueue(endpoint);
            }
        }

        /// <summary>
        /// <c>SocketAddress.ToString()</c>: <c>Family:Size:{bytes after the family}</c>: the port (big-endian) first, then
        /// an IPv4 address, or IPv6 flow info and address. Unix-domain sockets and others are not network connections.
        /// </summary>
        private static IPEndPoint? Parse(string address)
        {
            var parts = address.Split(':', 3);
            if (parts.Length != 3 || parts[0] is not ("InterNetwork" or "InterNetworkV6"))
            {
                return null;
            }

            var bytes = parts[2].Trim('{', '}').Split(',').Select(b => byte.Parse(b, CultureInfo.InvariantCulture)).ToArray();
            var port = (bytes[0] << 8) | bytes[1];
            var ip = parts[0] == "InterNetwork" ? new IPAddress(bytes.AsSpan(2, 4)) : new IPAddress(bytes.AsSpan(6, 16));
            return new IPEndPoint(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip, port);
        }
    }
}
