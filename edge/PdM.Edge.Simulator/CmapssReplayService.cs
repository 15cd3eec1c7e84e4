using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.Contracts.Telemetry;

namespace PdM.Edge.Simulator;

/// <summary>Publishes <see cref="CmapssReplay"/>'s engines, one cycle per engine every CycleIntervalMilliseconds, QoS 1.</summary>
public sealed partial class CmapssReplayService(IOptions<SimulatorOptions> options, TimeProvider clock, ILogger<CmapssReplayService> logger) : BackgroundService
{
    private readonly SimulatorOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = _options.Cmapss;
        if (!settings.Enabled)
        {
            return;
        }

        // Read before connecting: a wrong file or unit stops the replay with a reason, not a stream of bad telemetry.
        CmapssReplay replay;
        try
        {
            replay = CmapssReplay.Load(settings);
        }
        catch (Exception exception) when (exception is IOException or InvalidDataException or FormatException)
        {
            LogLoadFailed(logger, exception.Message);
            return;
        }

        var assets = string.Join(", ", replay.Engines.Select(e => e.AssetId));
        LogLoaded(logger, replay.Engines.Count, settings.File, assets);
        using var publisher = new TelemetryPublisher(_options, _options.Mqtt.ClientId + "-cmapss", "C-MAPSS replay", logger);
        var messages = new List<(string AssetId, TelemetryMessage Message)>(replay.Engines.Count);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(settings.CycleIntervalMilliseconds), clock);
        try
        {
            do
            {
                if (!await publisher.EnsureConnectedAsync(stoppingToken))
                {
                    continue;
                }

                messages.Clear();
                replay.NextCycle(clock.GetUtcNow(), messages);
                foreach (var (assetId, payload) in messages)
                {
                    await publisher.PublishAsync(assetId, payload, stoppingToken);
                }

                if (messages.Count == 0)
                {
                    LogFinished(logger, replay.Engines.Count);
                    return;
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "C-MAPSS replay: {Engines} engines from {File}: {Assets}")]
    private static partial void LogLoaded(ILogger logger, int engines, string file, string assets);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Error, Message = "C-MAPSS replay disabled: {Reason}")]
    private static partial void LogLoadFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 3014, Level = LogLevel.Information, Message = "C-MAPSS replay finished: {Engines} engines reached the end of their records")]
    private static partial void LogFinished(ILogger logger, int engines);
}
