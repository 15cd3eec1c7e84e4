using PdM.Contracts.Telemetry;
using System.Text;
using System.Globalization;
using System.Diagnostics.Metrics;
using System.Collections.Concurrent;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MQTTnet;
using PdM.Edge.Gateway;
using PdM.Edge.Ingestion;
using PdM.Messaging;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// A standalone gateway (the same composition as its Program.cs) on the real Mosquitto and RabbitMQ, reaching the
/// broker through a <see cref="LoopbackTcpProxy"/> so a test can cut its connection, plus a bus observer that records
/// every event the gateway publishes.
/// </summary>
public sealed class GatewayUnderTest : IAsyncDisposable
{
    private readonly IBusControl _observer;
    private readonly WebApplication _app;

    private GatewayUnderTest(string site, LoopbackTcpProxy brokerProxy, WebApplication app, IBusControl observer, MetricRecorder metrics, LogCapture logs, ObservedEvents events)
    {
        Site = site;
        BrokerProxy = brokerProxy;
        _app = app;
        _observer = observer;
        Metrics = metrics;
        Logs = logs;
        Events = events;
    }

    public string Site { get; }

    public LoopbackTcpProxy BrokerProxy { get; }

    public MetricRecorder Metrics { get; }

    public LogCapture Logs { get; }

    public ObservedEvents Events { get; }

    /// <summary>The gateway's services (e.g. to reach a test seam of one of its stages).</summary>
    public IServiceProvider Services => _app.Services;

    /// <param name="configure">Runs on the builder before the gateway registers its services: a service registered here replaces the gateway's default.</param>
    public static async Task<GatewayUnderTest> StartAsync(string site, IEnumerable<string> settings, Action<WebApplicationBuilder>? configure = null)
    {
        var vhost = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("gw"));
        var events = new ObservedEvents();
        var endpoint = RabbitMqEndpoint.Parse(vhost);
        var observer = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(endpoint.Host, endpoint.Port, endpoint.VirtualHost, h =>
            {
                h.Username(endpoint.Username);
                h.Password(endpoint.Password);
            });
            cfg.ReceiveEndpoint("test-observer", e =>
            {
                e.Handler<PdM.Contracts.Decisions.FailurePredicted>(context => events.Record(context.Message));
                e.Handler<PdM.Contracts.Edge.AssetWentOffline>(context => events.Record(context.Message));
                e.Handler<PdM.Contracts.Models.AssetHealthAssessed>(context => events.Record(context.Message));
                e.Handler<PdM.Contracts.Edge.GatewayHeartbeat>(context => events.Record(context.Message));
                e.Handler<PdM.Contracts.Edge.GatewaySheddingChanged>(context => events.Record(context.Message));
                e.Handler<FeatureWindowsCollected>(context => events.Record(context.Message));
            });
        });
        await observer.StartAsync();

        var proxy = new LoopbackTcpProxy(LocalDependencies.MqttHost, LocalDependencies.MqttPort);
        var logs = new LogCapture();
        var app = GatewayApplication.Build(
            [
                "--Urls=http://127.0.0.1:0",
                "--Messaging:Transport=RabbitMq",
                $"--Messaging:RabbitMq:Uri={vhost}",
                $"--Gateway:SiteId={site}",
                $"--Gateway:Mqtt:Host=127.0.0.1",
                $"--Gateway:Mqtt:Port={proxy.Port}",
                $"--Gateway:Mqtt:ClientId=gw-{site}",
                "--Gateway:Mqtt:KeepAliveSeconds=2",
                $"--Journal:Path={Path.Combine(Path.GetTempPath(), "pdm-tests", site, "journal.db")}",
                .. settings,
            ],
            builder =>
            {
                builder.Logging.AddProvider(logs);
                configure?.Invoke(builder);
            });

        // This gateway's meters only: other test classes run gateways in parallel in the same process.
        var metrics = new MetricRecorder(app.Services.GetRequiredService<IMeterFactory>(), GatewayTelemetry.Name, IngestionTelemetry.MeterName);
        await app.StartAsync();
        await Eventually.Until(() => Task.FromResult(metrics.Total("pdm.mqtt.connections")), n => n > 0, TimeSpan.FromSeconds(30), "gateway MQTT connection");
        return new GatewayUnderTest(site, proxy, app, observer, metrics, logs, events);
    }

    /// <summary>An MQTT client on the real broker, optionally through its own proxy (to kill it and fire its Will).</summary>
    public static async Task<IMqttClient> ConnectClient(string clientId, int port, Action<MqttClientOptionsBuilder>? configure = null)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId(clientId)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(2));
        configure?.Invoke(builder);
        await client.ConnectAsync(builder.Build());
        return client;
    }

    /// <summary>
    /// A healthy, a zone-D and a healthy vibration reading of pump <c>P0</c> of <paramref name="site"/>, from a device
    /// of its own: under the per-reading spec exactly one prediction (the zone-D window, closed by the reading after it).
    /// Returns the device, connected, for the test to dispose.
    /// </summary>
    public static async Task<IMqttClient> PublishOneZoneDReading(string site)
    {
        var device = await ConnectClient($"dev-{site}", LocalDependencies.MqttPort);
        var clock = DateTimeOffset.UtcNow.AddMinutes(-1);
        foreach (var value in new[] { 2.0, 8.0, 2.0 })
        {
            clock = clock.AddMilliseconds(10);
            await PublishVibration(device, site, "P0", clock, value);
        }

        return device;
    }

    /// <summary>One device message of <paramref name="asset"/>: a vibration reading at <paramref name="deviceTime"/>, QoS 1.</summary>
    public static Task<MqttClientPublishResult> PublishVibration(IMqttClient device, string site, string asset, DateTimeOffset deviceTime, double value)
    {
        var json = string.Create(CultureInfo.InvariantCulture,
            $$$"""{"schemaVersion":1,"deviceTime":"{{{deviceTime:yyyy-MM-ddTHH:mm:ss.fffZ}}}","readings":{"vibration_rms_mm_s":{{{value}}}}}""");
        return device.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(TelemetryTopics.Telemetry(site, asset))
            .WithPayload(Encoding.UTF8.GetBytes(json)).WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce).Build());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await BrokerProxy.DisposeAsync();
        await _observer.StopAsync();
        Metrics.Dispose();
    }
}

/// <summary>Events the gateway published on the bus, as a consumer in the cloud receives them.</summary>
public sealed class ObservedEvents
{
    private readonly ConcurrentQueue<object> _events = new();

    public IReadOnlyList<T> OfType<T>() => _events.OfType<T>().ToList();

    internal Task Record(object message)
    {
        _events.Enqueue(message);
        return Task.CompletedTask;
    }
}
