using System.Text;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Edge.Gateway.Mqtt;

namespace PdM.Edge.Gateway.Sharding;

/// <summary>
/// Presence and take-over for a sharded site (<see cref="ShardingOptions"/>). A small MQTT connection of its own
/// announces this gateway's shard as retained <c>online</c>, with a retained <c>offline</c> Will the broker publishes
/// the moment the process dies (its TCP connection closes; after 1.5 keep-alives if the link just goes silent), and
/// watches every shard's presence. For a shard reported offline, the first live gateway after it in shard order
/// resumes that shard's persistent session under the shard's client id: the broker hands it what the dead gateway had
/// not acknowledged and everything since, so the shard's assets are decided again, here. When the owner returns, its
/// connection takes the session back (MQTT lets one connection hold a client id at a time), and this one stands down.
/// <para>
/// The bound, for a dead gateway: its assets are decided again once the broker has published its Will (at once for a
/// killed process) and the stand-in has connected and subscribed; readings the dead gateway had acknowledged into a
/// window it had not closed are lost with it (at most one open window per asset), as on any gateway restart.
/// </para>
/// </summary>
public sealed partial class ShardTakeoverService(
    IOptions<GatewayOptions> options,
    AssetShards shards,
    MqttIngestService ingest,
    GatewayTelemetry telemetry,
    TimeProvider clock,
    ILogger<ShardTakeoverService> logger) : BackgroundService
{
    private readonly GatewayOptions _options = options.Value;
    private readonly Lock _gate = new();
    private readonly PeerState[] _peers = new PeerState[shards.Count];
    private readonly IMqttClient?[] _adopted = new IMqttClient?[shards.Count];
    private readonly DateTimeOffset[] _holdUntil = new DateTimeOffset[shards.Count];
    private readonly SemaphoreSlim _changed = new(0);
    private DateTimeOffset _watchingSince = DateTimeOffset.MaxValue;

    private enum PeerState
    {
        Unknown = 0,
        Online = 1,
        Offline = 2,
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Sharding.Enabled)
        {
            return;
        }

        using var watcher = new MqttClientFactory().CreateMqttClient();
        watcher.ApplicationMessageReceivedAsync += OnPresence;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (!watcher.IsConnected && !await TryConnectWatcher(watcher, stoppingToken))
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), clock, stoppingToken);
                    continue;
                }

                await Reconcile(stoppingToken);
                await _changed.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            for (var shard = 0; shard < _adopted.Length; shard++)
            {
                await Release(shard, "gateway stopping");
            }

            if (watcher.IsConnected)
            {
                // A clean stop says so itself: the peers take over at once instead of waiting for anything.
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await TryPublishPresence(watcher, "offline", timeout.Token);
                await watcher.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), timeout.Token);
            }
        }
    }

    private async Task<bool> TryConnectWatcher(IMqttClient watcher, CancellationToken cancellationToken)
    {
        var mqtt = _options.Mqtt;
        try
        {
            var builder = MqttIngestService.BaseOptions(mqtt, shards.SessionClientId(shards.Own) + "-presence")
                .WithCleanStart(true)
                .WithWillTopic(shards.PresenceTopic(shards.Own))
                .WithWillPayload(Encoding.UTF8.GetBytes("offline"))
                .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithWillRetain(true);
            await watcher.ConnectAsync(builder.Build(), cancellationToken);
            await watcher.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
                .WithTopicFilter(f => f.WithTopic(shards.PresenceFilter).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)).Build(), cancellationToken);
            await TryPublishPresence(watcher, "online " + _options.EffectiveGatewayId, cancellationToken);
            lock (_gate)
            {
                _peers[shards.Own] = PeerState.Online;
                _watchingSince = clock.GetUtcNow();
            }

            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogWatcherFailed(logger, exception.Message);
            return false;
        }
    }

    private async Task TryPublishPresence(IMqttClient watcher, string payload, CancellationToken cancellationToken)
    {
        try
        {
            await watcher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(shards.PresenceTopic(shards.Own))
                .WithPayload(Encoding.UTF8.GetBytes(payload)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithRetainFlag(true).Build(), cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogWatcherFailed(logger, exception.Message);
        }
    }

    private Task OnPresence(MqttApplicationMessageReceivedEventArgs args)
    {
        var shard = shards.ShardOfPresenceTopic(args.ApplicationMessage.Topic);
        if (shard >= 0 && shard != shards.Own)
        {
            var online = args.ApplicationMessage.Payload.Length >= 6
                && Encoding.UTF8.GetString(args.ApplicationMessage.Payload).StartsWith("online", StringComparison.Ordinal);
            lock (_gate)
            {
                _peers[shard] = online ? PeerState.Online : PeerState.Offline;
                if (!online)
                {
                    // A fresh death report lifts the hold a hand-back put on the shard.
                    _holdUntil[shard] = DateTimeOffset.MinValue;
                }
            }

            _changed.Release();
        }

        return Task.CompletedTask;
    }

    private async Task Reconcile(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        for (var shard = 0; shard < shards.Count; shard++)
        {
            if (shard == shards.Own)
            {
                continue;
            }

            bool wanted;
            PeerState state;
            lock (_gate)
            {
                state = _peers[shard];
                var dead = state == PeerState.Offline
                    || (state == PeerState.Unknown && now - _watchingSince >= TimeSpan.FromSeconds(_options.Sharding.UnknownPeerGraceSeconds));
                wanted = _options.Sharding.TakeOver && dead && now >= _holdUntil[shard] && shards.IsStandIn(shard, s => _peers[s] == PeerState.Online);
            }

            var held = _adopted[shard] is { IsConnected: true };
            if (wanted && !held)
            {
                await Adopt(shard, state, cancellationToken);
            }
            else if (!wanted && _adopted[shard] is not null)
            {
                await Release(shard, state == PeerState.Online ? "its gateway is back" : "another gateway stands in");
            }
        }
    }

    private async Task Adopt(int shard, PeerState state, CancellationToken cancellationToken)
    {
        _adopted[shard]?.Dispose();
        var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += args => ingest.Receive(args, shard);
        client.DisconnectedAsync += args =>
        {
            if (args.Reason == MqttClientDisconnectReason.SessionTakenOver)
            {
                // The owner connected under its client id: the session is its again. Wait for presence, not a retry loop.
                lock (_gate)
                {
                    _holdUntil[shard] = clock.GetUtcNow() + TimeSpan.FromSeconds(_options.Sharding.HandBackHoldSeconds);
                    if (_peers[shard] == PeerState.Offline)
                    {
                        _peers[shard] = PeerState.Unknown;
                    }
                }

                LogHandedBack(logger, shard);
                _changed.Release();
            }

            return Task.CompletedTask;
        };
        _adopted[shard] = client;
        try
        {
            var resumed = await ingest.ConnectAndSubscribe(client, shards.SessionClientId(shard), primary: false, cancellationToken);
            telemetry.ShardTakeovers.Add(1);
            LogTookOver(logger, shard, state.ToString(), resumed);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogTakeOverFailed(logger, shard, exception.Message);
        }
    }

    private async Task Release(int shard, string why)
    {
        if (_adopted[shard] is not { } client)
        {
            return;
        }

        _adopted[shard] = null;
        try
        {
            if (client.IsConnected)
            {
                // A normal disconnect keeps the session (and what it has queued) for the owner.
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), timeout.Token);
            }
        }
        catch (Exception exception) when (exception is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
        {
        }
        finally
        {
            client.Dispose();
        }

        LogReleased(logger, shard, why);
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Took over shard {Shard} (its gateway is {State}; session resumed: {Resumed})")]
    private static partial void LogTookOver(ILogger logger, int shard, string state, bool resumed);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "Released shard {Shard}: {Why}")]
    private static partial void LogReleased(ILogger logger, int shard, string why);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Information, Message = "Shard {Shard}'s gateway took its session back")]
    private static partial void LogHandedBack(ILogger logger, int shard);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Warning, Message = "Could not take over shard {Shard}: {Reason}")]
    private static partial void LogTakeOverFailed(ILogger logger, int shard, string reason);

    [LoggerMessage(EventId = 1305, Level = LogLevel.Warning, Message = "Shard presence connection failed: {Reason}")]
    private static partial void LogWatcherFailed(ILogger logger, string reason);
}
