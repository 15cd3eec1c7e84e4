using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Contracts.Decisions;
using PdM.Contracts.Telemetry;
using PdM.Edge.Gateway;
using PdM.Edge.Ingestion;
using PdM.Maintenance.Api;
using PdM.Testing;

namespace PdM.EndToEnd.Tests;

/// <summary>
/// The first slice across the real servers: a device publishes to Mosquitto, the gateway (its own host and bus
/// connection) applies the threshold rule and publishes FailurePredicted to RabbitMQ, Maintenance (another host)
/// stores the work order in PostgreSQL, and the API shows it.
/// </summary>
public sealed class ThinSliceTests : IAsyncLifetime
{
    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly string _site = LocalDependencies.UniqueName("site").Replace('_', '-');
    private readonly LogCapture _gatewayLogs = new();
    private readonly TestTokenIssuer _tokens = new();
    private readonly MetricRecorder _metrics = new(GatewayTelemetry.Name, IngestionTelemetry.MeterName, PdM.Maintenance.MaintenanceTelemetry.MeterName);
    private CloudUnderTest? _cloud;
    private WebApplication? _gateway;
    private IMqttClient? _device;
    private HttpClient? _api;

    public async Task InitializeAsync()
    {
        _cloud = await CloudUnderTest.StartAsync("e2e", ["--PdM:Modules=Maintenance", .. _tokens.Arguments]);
        _api = _cloud.Client(_tokens.Issue("paula", ["planner"]));

        _gateway = GatewayApplication.Build(
            [.. TestGatewayArguments.For(_site, _cloud.RabbitMq), .. AssetModelArguments("PUMP-7", "PUMP-9")],
            builder => builder.Logging.AddProvider(_gatewayLogs));
        await _gateway.StartAsync();

        _device = await MqttDevice.ConnectAsync($"device-{_site}");

        // The gateway subscribes asynchronously after start; wait until it is connected so no test message is lost
        // to a subscription that does not exist yet.
        await Eventually.Until(() => Task.FromResult(_metrics.Total("pdm.mqtt.connections")), n => n > 0, TimeSpan.FromSeconds(30), "gateway MQTT connection");
        await Task.Delay(500);
    }

    public async Task DisposeAsync()
    {
        if (_device is not null)
        {
            await _device.DisconnectAsync();
            _device.Dispose();
        }

        if (_gateway is not null)
        {
            await _gateway.StopAsync();
            await _gateway.DisposeAsync();
        }

        if (_cloud is not null)
        {
            await _cloud.DisposeAsync();
        }

        _api?.Dispose();
        _metrics.Dispose();
        _tokens.Dispose();
    }

    [Fact]
    public async Task Telemetry_crossing_the_rule_becomes_one_work_order_and_a_redelivered_prediction_changes_nothing()
    {
        const string asset = "PUMP-7";
        var deadLetters = await SubscribeToDeadLetters();

        var t0 = DateTimeOffset.UtcNow.AddSeconds(-10);
        await PublishTelemetry(asset, $$$"""{"schemaVersion":1,"asset":"PUMP-7","deviceTime":"{{{Iso(t0)}}}","readings":{"vibration_rms_mm_s":2.1,"bearing_temperature_c":61.0}}""");
        await PublishTelemetry(asset, $$$"""{"schemaVersion":1,"asset":"PUMP-7","deviceTime":"{{{Iso(t0.AddSeconds(1))}}}","readings":{"vibration_rms_mm_s":""");
        await PublishTelemetry(asset, $$$"""{"schemaVersion":1,"asset":"PUMP-7","deviceTime":"{{{Iso(t0.AddSeconds(2))}}}","readings":{"vibration_rms_mm_s":8.2,"bearing_temperature_c":70.5}}""");
        // The next reading closes the window that holds 8.2: decisions are taken per closed feature window.
        await PublishTelemetry(asset, $$$"""{"schemaVersion":1,"asset":"PUMP-7","deviceTime":"{{{Iso(t0.AddSeconds(3))}}}","readings":{"vibration_rms_mm_s":8.3}}""");

        var workOrders = await Eventually.Until(() => WorkOrders(asset), list => list.Count > 0, TimeSpan.FromSeconds(60), $"a work order for {asset}");
        var workOrder = Assert.Single(workOrders);

        Assert.Equal(_site, workOrder.SiteId);
        Assert.Equal(asset, workOrder.AssetId);
        Assert.Equal("VIB", workOrder.FailureMode);
        Assert.Equal("Open", workOrder.Status);
        Assert.Equal(PdM.Contracts.Maintenance.WorkOrderPriority.Urgent, workOrder.Priority);
        Assert.Equal(FailureSeverity.Critical, workOrder.Severity);
        Assert.Equal(HealthState.Danger, workOrder.HealthState);
        Assert.Equal(1, workOrder.PredictionCount);
        Assert.StartsWith($"pdm:{_site}:{asset}:VIB:", workOrder.ExternalKey, StringComparison.Ordinal);
        Assert.Equal(workOrder.FirstPredictionId, workOrder.LastPredictionId);

        var evidence = Assert.Single(workOrder.Evidence!);
        Assert.Equal("vibration_rms_mm_s", evidence.Signal);
        Assert.Equal(8.2, evidence.Value);
        Assert.Equal(4.5, evidence.Limit);
        Assert.Equal("mm/s", evidence.Unit);
        Assert.Equal(TelemetryTopics.Telemetry(_site, asset), evidence.Source);
        Assert.Equal(DateTimeOffset.Parse(Iso(t0.AddSeconds(2)), System.Globalization.CultureInfo.InvariantCulture), evidence.WindowStart);

        Assert.NotNull(workOrder.Provenance);
        Assert.Equal(DecisionPath.Rules, workOrder.Provenance.Path);
        Assert.Equal("centrifugal-pump-defaults", workOrder.Provenance.RulesetName);
        Assert.Equal("1.0.0", workOrder.Provenance.RulesetVersion);
        Assert.Equal("vibration-zone-d", workOrder.Provenance.RuleName);
        Assert.Equal("no_model", workOrder.Provenance.FallbackReason);
        Assert.Equal($"gw-{_site}", workOrder.Provenance.GatewayId);

        // The malformed payload in the middle was counted, logged with its reason and dead-lettered; the good
        // message after it still made it through (the work order above).
        Assert.Equal(1, _metrics.Total("pdm.ingest.rejected", "reason", "malformed"));
        Assert.Contains(_gatewayLogs.Lines, line => line.Contains("Rejected telemetry", StringComparison.Ordinal) && line.Contains("malformed", StringComparison.Ordinal));
        var deadLetter = await deadLetters.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("malformed", deadLetter.GetProperty("reason").GetString());
        Assert.Equal(TelemetryTopics.Telemetry(_site, asset), deadLetter.GetProperty("topic").GetString());

        // Redeliver the very prediction the gateway sent (same message id): Maintenance must recognise it.
        var duplicatesBefore = _metrics.Total("pdm.maintenance.duplicates_ignored");
        var bus = _cloud!.Services.GetRequiredService<IBus>();
        await bus.Publish(Redelivery(workOrder), context => context.MessageId = workOrder.LastPredictionId);
        await Eventually.Until(() => Task.FromResult(_metrics.Total("pdm.maintenance.duplicates_ignored")), n => n > duplicatesBefore, TimeSpan.FromSeconds(30), "the duplicate to be consumed");

        var afterRedelivery = Assert.Single(await WorkOrders(asset));
        Assert.Equal(workOrder.Id, afterRedelivery.Id);
        Assert.Equal(1, afterRedelivery.PredictionCount);
    }

    [Fact]
    public async Task A_condition_that_recurs_while_its_work_order_is_open_updates_that_work_order()
    {
        const string asset = "PUMP-9";
        var t0 = DateTimeOffset.UtcNow.AddSeconds(-10);
        await PublishTelemetry(asset, $$$"""{"schemaVersion":1,"deviceTime":"{{{Iso(t0)}}}","readings":{"vibration_rms_mm_s":7.5}}""");
        // The next reading closes the 7.5 window; then recover (a healthy window re-arms) and cross again.
        await PublishTelemetry(asset, $$$"""{"schemaVersion":1,"deviceTime":"{{{Iso(t0.AddSeconds(1))}}}","readings":{"vibration_rms_mm_s":2.0}}""");
        var first = Assert.Single(await Eventually.Until(() => WorkOrders(asset), l => l.Count > 0, TimeSpan.FromSeconds(60), "first work order"));
        await PublishTelemetry(asset, $$$"""{"batch":[{"deviceTime":"{{{Iso(t0.AddSeconds(2))}}}","readings":{"vibration_rms_mm_s":9.9}},{"deviceTime":"{{{Iso(t0.AddSeconds(3))}}}","readings":{"vibration_rms_mm_s":2.0}}],"schemaVersion":1}""");

        var updated = await Eventually.Until(async () => (await WorkOrders(asset)).Single(), w => w.PredictionCount == 2, TimeSpan.FromSeconds(60), "the second prediction to update the work order");
        Assert.Equal(first.Id, updated.Id);
        Assert.NotEqual(first.LastPredictionId, updated.LastPredictionId);
        Assert.Equal(9.9, Assert.Single(updated.Evidence!).Value);
    }

    private async Task PublishTelemetry(string asset, string json)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(TelemetryTopics.Telemetry(_site, asset))
            .WithPayload(Encoding.UTF8.GetBytes(json))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        var result = await _device!.PublishAsync(message);
        Assert.True(result.IsSuccess, $"broker refused the publish: {result.ReasonCode}");
    }

    private async Task<TaskCompletionSource<JsonElement>> SubscribeToDeadLetters()
    {
        var received = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _device!.ApplicationMessageReceivedAsync += args =>
        {
            if (args.ApplicationMessage.Topic == TelemetryTopics.DeadLetter(_site))
            {
                received.TrySetResult(JsonDocument.Parse(args.ApplicationMessage.Payload).RootElement.Clone());
            }

            return Task.CompletedTask;
        };
        await _device.SubscribeAsync(TelemetryTopics.DeadLetter(_site), MqttQualityOfServiceLevel.AtLeastOnce);
        return received;
    }

    private async Task<List<WorkOrderResponse>> WorkOrders(string asset) =>
        await _api!.GetFromJsonAsync<List<WorkOrderResponse>>($"/api/work-orders?assetId={asset}", ApiJson) ?? [];

    private static FailurePredicted Redelivery(WorkOrderResponse workOrder) => new()
    {
        PredictionId = workOrder.LastPredictionId,
        SiteId = workOrder.SiteId,
        AssetId = workOrder.AssetId,
        FailureMode = workOrder.FailureMode,
        Severity = workOrder.Severity,
        HealthState = workOrder.HealthState,
        Confidence = workOrder.Confidence,
        Evidence = workOrder.Evidence!,
        Provenance = workOrder.Provenance!,
        OccurredAt = DateTimeOffset.UtcNow,
    };

    private static string Iso(DateTimeOffset time) => time.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The site's asset model on the command line: pumps with a vibration and a bearing temperature sensor.</summary>
    internal static IEnumerable<string> AssetModelArguments(params string[] assets)
    {
        for (var i = 0; i < assets.Length; i++)
        {
            var prefix = $"--AssetModel:Assets:{i}";
            yield return $"{prefix}:Id={assets[i]}";
            yield return $"{prefix}:AssetClass=centrifugal-pump";
            yield return $"{prefix}:Sensors:0:Id=vibration_rms_mm_s";
            yield return $"{prefix}:Sensors:0:Unit=mm/s";
            yield return $"{prefix}:Sensors:0:ValidMin=0";
            yield return $"{prefix}:Sensors:0:ValidMax=100";
            yield return $"{prefix}:Sensors:1:Id=bearing_temperature_c";
            yield return $"{prefix}:Sensors:1:Unit=°C";
            yield return $"{prefix}:Sensors:1:ValidMin=-40";
            yield return $"{prefix}:Sensors:1:ValidMax=250";
        }
    }
}
