using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.Contracts.Telemetry;

namespace PdM.Edge.Simulator;

/// <summary>Publishes the plant model's readings as PdM JSON telemetry, QoS 1, reconnecting when the broker goes away.</summary>
public sealed partial class SimulatorService(IOptions<SimulatorOptions> options, TimeProvider clock, ILogger<SimulatorService> logger) : BackgroundService
{
    private readonly SimulatorOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var plant = new PlantModel(_options);
        using var publisher = new TelemetryPublisher(_options, _options.Mqtt.ClientId, "Simulator", logger);
        var started = clock.GetTimestamp();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_options.IntervalMilliseconds), clock);
        var published = 0L;
        try
        {
            do
            {
                if (!await publisher.EnsureConnectedAsync(stoppingToken))
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
                    await publisher.PublishAsync(asset, payload, stoppingToken);
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

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Simulator published {Count} messages for {Assets} assets")]
    private static partial void LogProgress(ILogger logger, long count, int assets);
}
