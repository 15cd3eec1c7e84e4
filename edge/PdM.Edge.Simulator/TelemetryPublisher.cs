using System.Text.Json;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Contracts;
using PdM.Contracts.Telemetry;

namespace PdM.Edge.Simulator;

/// <summary>
/// One publisher's link to the site broker: PdM JSON telemetry on the asset's topic at QoS 1, connecting again
/// whenever the broker went away. The plant simulation and the C-MAPSS replay each own one, with a client id of their own.
/// </summary>
internal sealed partial class TelemetryPublisher : IDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly MqttClientOptions _connectOptions;
    private readonly SimulatorOptions _options;
    private readonly string _source;
    private readonly ILogger _logger;

    /// <param name="source">Names the publisher in its log lines ("Simulator", "C-MAPSS replay").</param>
    public TelemetryPublisher(SimulatorOptions options, string clientId, string source, ILogger logger)
    {
        _options = options;
        _source = source;
        _logger = logger;
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(options.Mqtt.Host, options.Mqtt.Port)
            .WithClientId(clientId)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500);
        if (!string.IsNullOrEmpty(options.Mqtt.Username))
        {
            builder.WithCredentials(options.Mqtt.Username, options.Mqtt.Password);
        }

        _connectOptions = builder.Build();
    }

    /// <summary>True when connected (connecting first if need be); false, logged, while the broker cannot be reached.</summary>
    public async Task<bool> EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        if (_client.IsConnected)
        {
            return true;
        }

        try
        {
            await _client.ConnectAsync(_connectOptions, cancellationToken);
            LogConnected(_logger, _source, _options.Mqtt.Host, _options.Mqtt.Port, _options.SiteId);
            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogConnectFailed(_logger, _source, _options.Mqtt.Host, _options.Mqtt.Port, exception.Message);
            return false;
        }
    }

    public async Task PublishAsync(string assetId, TelemetryMessage payload, CancellationToken cancellationToken)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(TelemetryTopics.Telemetry(_options.SiteId, assetId))
            .WithPayload(JsonSerializer.SerializeToUtf8Bytes(payload, ContractsJsonContext.Default.TelemetryMessage))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        await _client.PublishAsync(message, cancellationToken);
    }

    public void Dispose() => _client.Dispose();

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "{Source} connected to {Host}:{Port}, publishing site {SiteId}")]
    private static partial void LogConnected(ILogger logger, string source, string host, int port, string siteId);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "{Source} cannot reach {Host}:{Port}: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string source, string host, int port, string reason);
}
