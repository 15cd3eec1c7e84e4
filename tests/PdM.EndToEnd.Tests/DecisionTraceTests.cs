using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Protocol;
using OpenTelemetry.Trace;
using PdM.Cmms.Stubs;
using PdM.Contracts.Telemetry;
using PdM.Edge.Gateway;
using PdM.Maintenance.Api;
using PdM.Messaging;
using PdM.Testing;

namespace PdM.EndToEnd.Tests;

/// <summary>
/// Issue 13's trace across the real servers: a device's MQTT 5 message carrying a W3C traceparent → the gateway's
/// decision (linked to the message) → its journal append and uplink publish → RabbitMQ → Maintenance's consumer and case
/// → the outbox delivery → the HTTP POST to the (stub) Maximo, all one trace id, which the work order's provenance shows.
/// An event held in the journal while the gateway's bus link is cut is sent afterwards in a trace linked to its decision;
/// an MQTT 3.1.1 message (no user properties) starts a new trace. Spans are collected with OpenTelemetry's in-memory exporter.
/// </summary>
public sealed class DecisionTraceTests : IAsyncLifetime
{
    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly string _site = LocalDependencies.UniqueName("trace").Replace('_', '-');
    private readonly SpanCollection _spans = new();
    private readonly TestTokenIssuer _tokens = new();
    private readonly MetricRecorder _metrics = new(GatewayTelemetry.Name);
    private CmmsStubServer? _cmms;
    private LoopbackTcpProxy? _busLink;
    private CloudUnderTest? _cloud;
    private WebApplication? _gateway;
    private HttpClient? _api;

    public async Task InitializeAsync()
    {
        _cmms = await CmmsStubServer.StartAsync(configure: o => o.MaximoApiKey = "trace-key");
        _cloud = await CloudUnderTest.StartAsync("trace",
            [
                "--PdM:Modules=Maintenance",
                "--Telemetry:Tracing:SampleRatio=1",
                "--Maintenance:Delivery:PollInterval=00:00:00.200",
                .. MaximoSite(_site, _cmms.MaximoUrl(_site)),
                .. _tokens.Arguments,
            ]);
        _api = _cloud.Client(_tokens.Issue("paula", ["planner"]));
        var endpoint = RabbitMqEndpoint.Parse(_cloud.RabbitMq);
        _busLink = new LoopbackTcpProxy(endpoint.Host, endpoint.Port);

        // Both hosts run in this process and listen to the same activity sources: one exporter (the gateway's) sees all.
        _gateway = GatewayApplication.Build(
            [
                // The gateway reaches RabbitMQ through the proxy, which a test cuts.
                .. TestGatewayArguments.For(_site, new UriBuilder(_cloud.RabbitMq) { Port = _busLink.Port }.Uri),
                "--Telemetry:Tracing:SampleRatio=1",
                .. ThinSliceTests.AssetModelArguments("PUMP-1", "PUMP-2", "PUMP-3"),
            ],
            builder => builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans)));
        await _gateway.StartAsync();
        await Eventually.Until(() => Task.FromResult(_metrics.Total("pdm.mqtt.connections")), n => n > 0, TimeSpan.FromSeconds(30), "gateway MQTT connection");
        await Task.Delay(500);
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.StopAsync();
            await _gateway.DisposeAsync();
        }

        if (_cloud is not null)
        {
            await _cloud.DisposeAsync();
        }

        if (_busLink is not null)
        {
            await _busLink.DisposeAsync();
        }

        if (_cmms is not null)
        {
            await _cmms.DisposeAsync();
        }

        _api?.Dispose();
        _metrics.Dispose();
        _tokens.Dispose();
    }

    [Fact]
    public async Task A_devices_traced_message_leads_to_one_trace_from_the_decision_to_the_CMMS_POST_and_the_work_order_shows_it()
    {
        var device = ActivityTraceId.CreateRandom();
        var deviceSpan = ActivitySpanId.CreateRandom();
        var traceParent = $"00-{device.ToHexString()}-{deviceSpan.ToHexString()}-01";
        using var client = await Device(MQTTnet.Formatter.MqttProtocolVersion.V500);
        var t0 = DateTimeOffset.UtcNow.AddSeconds(-10);
        await Publish(client, "PUMP-1", t0, 8.2, traceParent);
        await Publish(client, "PUMP-1", t0.AddSeconds(1), 2.0, traceParent);

        var workOrder = await DeliveredWorkOrder("PUMP-1");
        var traceId = workOrder.Provenance!.TraceId;
        Assert.NotNull(traceId);
        Assert.NotEqual(device.ToHexString(), traceId);

        // The decision: a root of its own trace, linked (not parented) to the device's message.
        var decide = await Span(s => s.DisplayName == "decide PUMP-1" && s.TraceId.ToHexString() == traceId, "the decision span");
        Assert.Equal(default, decide.ParentSpanId);
        Assert.Contains(decide.Links, l => l.Context.TraceId == device && l.Context.SpanId == deviceSpan);
        Assert.Equal(1, decide.GetTagItem("messaging.batch.message_count"));
        Assert.Equal("rules", decide.GetTagItem("pdm.decision.path"));
        Assert.Equal("no_model", decide.GetTagItem("pdm.decision.fallback_reason"));
        Assert.Equal("centrifugal-pump", decide.GetTagItem("pdm.asset.class"));
        Assert.Equal("Danger", decide.GetTagItem("pdm.decision.state"));

        // Its children on the gateway, then the bus, Maintenance, the outbox and the CMMS call in the same trace.
        var append = await Span(s => s.DisplayName == "journal append" && s.ParentSpanId == decide.SpanId
            && Equals(s.GetTagItem("pdm.journal.message_type"), "FailurePredicted"), "the journal append");
        Assert.IsType<long>(append.GetTagItem("pdm.journal.sequence"));
        await Span(s => s.DisplayName == "uplink publish FailurePredicted" && s.ParentSpanId == decide.SpanId, "the uplink publish");
        await Span(s => s.Source.Name == "MassTransit" && s.Kind == ActivityKind.Consumer && s.TraceId == decide.TraceId, "Maintenance's consume span");
        await Span(s => s.DisplayName == "maintenance case PUMP-1" && s.TraceId == decide.TraceId, "the case span");
        var outbox = await Span(s => s.DisplayName == "outbox deliver cmms" && s.TraceId == decide.TraceId, "the outbox delivery to the CMMS");
        var post = await Span(s => s.Kind == ActivityKind.Client && s.Source.Name == "System.Net.Http" && s.TraceId == decide.TraceId
            && Equals(s.GetTagItem("http.request.method"), "POST"), "the CMMS HTTP POST");
        Assert.Equal(outbox.SpanId, post.ParentSpanId);
        Assert.StartsWith(_cmms!.MaximoUrl(_site).ToString(), post.GetTagItem("url.full") as string, StringComparison.Ordinal);

        // GET /api/work-orders/{id} shows the same trace id.
        var single = await _api!.GetFromJsonAsync<WorkOrderResponse>($"/api/work-orders/{workOrder.Id}", ApiJson);
        Assert.Equal(traceId, single!.Provenance!.TraceId);
    }

    [Fact]
    public async Task An_event_held_in_the_journal_while_the_bus_is_cut_is_sent_afterwards_in_a_trace_linked_to_its_decision()
    {
        using var client = await Device(MQTTnet.Formatter.MqttProtocolVersion.V500);
        _busLink!.Refuse();
        _busLink.CutAll();
        var t0 = DateTimeOffset.UtcNow.AddSeconds(-10);
        await Publish(client, "PUMP-2", t0, 8.4, traceParent: null);
        await Publish(client, "PUMP-2", t0.AddSeconds(1), 2.0, traceParent: null);

        // Decided and journaled while the link is down: the first publish attempt fails (its span says so).
        var decide = await Span(s => s.DisplayName == "decide PUMP-2" && Equals(s.GetTagItem("pdm.decision.state"), "Danger"), "the decision span");
        await Span(s => s.DisplayName == "journal append" && s.ParentSpanId == decide.SpanId, "the journal append");
        await Span(s => s.DisplayName == "uplink publish FailurePredicted" && s.ParentSpanId == decide.SpanId && s.Status == ActivityStatusCode.Error,
            "the failed first publish attempt", TimeSpan.FromSeconds(60));

        _busLink.Accept();
        var workOrder = await DeliveredWorkOrder("PUMP-2");
        var late = await Span(s => s.DisplayName == "uplink publish FailurePredicted" && s.Status != ActivityStatusCode.Error
            && s.TraceId.ToHexString() == workOrder.Provenance!.TraceId, "the publish that got through");
        Assert.NotEqual(decide.TraceId, late.TraceId);
        Assert.Contains(late.Links, l => l.Context.TraceId == decide.TraceId && l.Context.SpanId == decide.SpanId);
        Assert.True((int)late.GetTagItem("pdm.journal.attempts")! > 1);
        await Span(s => s.DisplayName == "maintenance case PUMP-2" && s.TraceId == late.TraceId, "the case span in the late trace");
    }

    [Fact]
    public async Task An_MQTT_3_1_1_message_starts_a_new_trace()
    {
        using var client = await Device(MQTTnet.Formatter.MqttProtocolVersion.V311);
        var t0 = DateTimeOffset.UtcNow.AddSeconds(-10);
        await Publish(client, "PUMP-3", t0, 8.6, traceParent: null);
        await Publish(client, "PUMP-3", t0.AddSeconds(1), 2.0, traceParent: null);

        var decide = await Span(s => s.DisplayName == "decide PUMP-3" && Equals(s.GetTagItem("pdm.decision.state"), "Danger"), "the decision span");
        Assert.Equal(default, decide.ParentSpanId);
        Assert.Empty(decide.Links);
        var workOrder = await DeliveredWorkOrder("PUMP-3");
        Assert.Equal(decide.TraceId.ToHexString(), workOrder.Provenance!.TraceId);
    }

    private Task<IMqttClient> Device(MQTTnet.Formatter.MqttProtocolVersion version) => MqttDevice.ConnectAsync($"device-{_site}-{version}", version);

    private async Task Publish(IMqttClient client, string asset, DateTimeOffset at, double vibration, string? traceParent)
    {
        var json = $$$"""{"schemaVersion":1,"deviceTime":"{{{at:yyyy-MM-ddTHH:mm:ss.fffZ}}}","readings":{"vibration_rms_mm_s":{{{vibration.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}}}""";
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(TelemetryTopics.Telemetry(_site, asset))
            .WithPayload(Encoding.UTF8.GetBytes(json))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (traceParent is not null)
        {
            message.WithUserProperty("traceparent", Encoding.UTF8.GetBytes(traceParent).AsMemory());
        }

        var result = await client.PublishAsync(message.Build());
        Assert.True(result.IsSuccess, $"broker refused the publish: {result.ReasonCode}");
    }

    private async Task<WorkOrderResponse> DeliveredWorkOrder(string asset) =>
        (await Eventually.Until(
            async () => (await _api!.GetFromJsonAsync<List<WorkOrderResponse>>($"/api/work-orders?assetId={asset}", ApiJson) ?? []).SingleOrDefault(),
            w => w?.Cmms?.RecordId is not null, TimeSpan.FromSeconds(90), $"the work order of {asset} in the CMMS"))!;

    private Task<Activity> Span(Func<Activity, bool> match, string what, TimeSpan? timeout = null) =>
        Eventually.Until(() => Task.FromResult(_spans.Snapshot().FirstOrDefault(match)), s => s is not null, timeout ?? TimeSpan.FromSeconds(30), what)!;

    /// <summary>A Maximo site with the test's pumps and the VIB failure mode (INTEGRATIONS.md §5 example).</summary>
    private static IEnumerable<string> MaximoSite(string site, Uri url)
    {
        var p = $"--Maintenance:Sites:{site}";
        yield return $"{p}:WorkOrderConfidence=0.5";
        yield return $"{p}:Cmms:Adapter=Maximo";
        yield return $"{p}:Cmms:Maximo:BaseUrl={url}";
        yield return $"{p}:Cmms:Maximo:ApiKey=trace-key";
        foreach (var argument in new[] { "PUMP-1", "PUMP-2", "PUMP-3" }.SelectMany(asset => MaintenanceSiteArguments.MaximoPump(site, asset)))
        {
            yield return argument;
        }

        yield return $"{p}:FailureModes:VIB:Mechanism=2.4";
        yield return $"{p}:FailureModes:VIB:ProblemCode=VIB";
    }

    /// <summary>What the in-memory exporter writes to from its export thread while the test reads.</summary>
    private sealed class SpanCollection : ICollection<Activity>
    {
        private readonly List<Activity> _items = [];

        public int Count
        {
            get
            {
                lock (_items)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public List<Activity> Snapshot()
        {
            lock (_items)
            {
                return [.. _items];
            }
        }

        public void Add(Activity item)
        {
            lock (_items)
            {
                _items.Add(item);
            }
        }

        public void Clear()
        {
            lock (_items)
            {
                _items.Clear();
            }
        }

        public bool Contains(Activity item)
        {
            lock (_items)
            {
                return _items.Contains(item);
            }
        }

        public void CopyTo(Activity[] array, int arrayIndex)
        {
            lock (_items)
            {
                _items.CopyTo(array, arrayIndex);
            }
        }

        public bool Remove(Activity item)
        {
            lock (_items)
            {
                return _items.Remove(item);
            }
        }

        public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
