using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Contracts;
using PdM.Contracts.Telemetry;

namespace PdM.Edge.Simulator;

/// <summary>Publishes the plant model's readings as PdM JSON telemetry, QoS 1, reconnecting when the broker goes away.</summary>
public sealed partial class SimulatorService(IOptions<SimulatorOptions> options, TimeProvider clock, ILogger<SimulatorService> logger) : BackgroundService
{
    private readonly SimulatorOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var plant = new PlantModel(_options);
        using var client = new MqttClientFactory().CreateMqttClient();
        var connectOptions = new MqttClientOptionsBuilder()
            .WithTcpServer(_options.Mqtt.Host, _options.Mqtt.Port)
            .WithClientId(_options.Mqtt.ClientId)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .Build();

        var started = clock.GetTimestamp();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_options.IntervalMilliseconds), clock);
        var published = 0L;
        try
        {
            do
            {
                if (!client.IsConnected && !await TryConnect(client, connectOptions, stoppingToken))
                {
                    continue;
                }

                var now = clock.GetUtcNow();
                var elapsed = clock.GetElapsedTime(started);
                foreach (var asset in plant.Assets)
                {
                    var (vibration, temperature) = plant.Sample(asset, elapsed);
                    var payload = new TelemetryMessage
                    {
                        SchemaVersion = TelemetryMessage.CurrentSchemaVersion,
                        Asset = asset,
                        DeviceTime = now,
                        Readings = new Dictionary<string, double>(2) { ["vibration_rms_mm_s"] = Math.Round(vibration, 3), ["bearing_temperature_c"] = Math.Round(temperature, 2) },
                    };
                    var message = new MqttApplicationMessageBuilder()
                        .WithTopic(TelemetryTopics.Telemetry(_options.SiteId, asset))
                        .WithPayload(JsonSerializer.SerializeToUtf8Bytes(payload, ContractsJsonContext.Default.TelemetryMessage))
                        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                        .Build();
                    await client.PublishAsync(message, stoppingToken);
                    published++;
                }

                if (published % (plant.Assets.Count * 20) == 0)
                {
                    LogProgress(logger, published, plant.Assets.Count);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task<bool> TryConnect(IMqttClient client, MqttClientOptions connectOptions, CancellationToken cancellationToken)
    {
        try
        {
            await client.ConnectAsync(connectOptions, cancellationToken);
            LogConnected(logger, _options.Mqtt.Host, _options.Mqtt.Port, _options.SiteId);
            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogConnectFailed(logger, _options.Mqtt.Host, _options.Mqtt.Port, exception.Message);
            return false;
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Simulator connected to {Host}:{Port}, publishing site {SiteId}")]
    private static partial void LogConnected(ILogger logger, string host, int port, string siteId);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Simulator cannot reach {Host}:{Port}: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string host, int port, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Simulator published {Count} messages for {Assets} assets")]
    private static partial void LogProgress(ILogger logger, long count, int assets);
}
