using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Protocol;
using Npgsql;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Contracts.Telemetry;
using PdM.Edge.Gateway;
using PdM.Host;
using PdM.Maintenance.Api;
using PdM.Maintenance.Consumers;
using PdM.Messaging;
using PdM.Testing;

namespace PdM.Resilience.Tests;

/// <summary>
/// One delivery path on the real servers, for fault tests: devices → Mosquitto → gateway (in this process, or a child
/// process that can be SIGKILLed) → loopback proxy → RabbitMQ → Maintenance (cloud host) → PostgreSQL, plus an observer
/// on the broker side that records every <see cref="FailurePredicted"/> delivery. <see cref="ReconcileAsync"/> checks
/// the history: each round raises one prediction per asset (sent), each reaches the broker (delivered), is stored once
/// in the Maintenance inbox (stored) and folds once into its asset's work order (effective).
/// </summary>
internal sealed class DeliveryRig : IAsyncDisposable
{
    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly TestDatabase _database;
    private readonly WebApplication _cloud;
    private readonly IBusControl _observer;
    private readonly IMqttClient _device;
    private readonly List<string> _gatewaySettings;
    private readonly double _duplicateFraction;
    private DateTimeOffset _deviceClock = DateTimeOffset.UtcNow.AddMinutes(-30);
    private int _distinctSeen;

    private readonly string[] _cloudSettings;

    private DeliveryRig(string site, int assets, TestDatabase database, Uri vhost, LoopbackTcpProxy busLink, WebApplication cloud,
        HttpClient api, IBusControl observer, IMqttClient device, List<string> gatewaySettings, double duplicateFraction, string[] cloudSettings)
    {
        _cloudSettings = cloudSettings;
        Site = site;
        Assets = assets;
        _database = database;
        Vhost = vhost;
        BusLink = busLink;
        _cloud = cloud;
        Api = api;
        _observer = observer;
        _device = device;
        _gatewaySettings = gatewaySettings;
        _duplicateFraction = duplicateFraction;
    }

    public string Site { get; }

    public int Assets { get; }

    public Uri Vhost { get; }

    /// <summary>The gateway's TCP link to RabbitMQ.</summary>
    public LoopbackTcpProxy BusLink { get; }

    public HttpClient Api { get; }

    /// <summary>Deliveries of each prediction id at the broker (more than one = a redelivery the inbox must absorb).</summary>
    public ConcurrentDictionary<Guid, int> Delivered { get; } = new();

    public ConcurrentDictionary<Guid, string> AssetOf { get; } = new();

    /// <summary>The gateway that decided each prediction (its provenance) and when the observer first saw it.</summary>
    public ConcurrentDictionary<Guid, (string Gateway, DateTimeOffset SeenAt)> DecidedBy { get; } = new();

    /// <summary>
    /// The predictions seen per decided window (asset and the end of the window its evidence names): one id per window
    /// when no window was decided twice.
    /// </summary>
    public ConcurrentDictionary<(string Asset, DateTimeOffset WindowEnd), ConcurrentDictionary<Guid, byte>> PredictionsByWindow { get; } = new();

    /// <summary>Duplicates this rig published itself (same message id) to stand in for a redelivering network.</summary>
    public int DuplicatesInjected => _duplicatesInjected;

    /// <summary>Deliveries of Maintenance's <see cref="MaintenanceOutcomeRecorded"/> events at the broker side, by message id.</summary>
    public ConcurrentDictionary<Guid, int> OutcomesDelivered { get; } = new();

    public int ReadingsSent { get; private set; }

    /// <summary>
    /// What the in-process gateway logged (its uplink and MassTransit's connection events), and its journal's state: shown
    /// when a delivery wait times out, because a fault test that fails once in many runs must say where the events stopped.
    /// </summary>
    public LogCapture GatewayLog { get; } = new(timestamped: true);

    /// <summary>The in-process gateway's journal counts, set by whoever starts it (null for a child-process gateway).</summary>
    public Func<string>? GatewayJournalState { get; set; }

    private int _duplicatesInjected;

    /// <summary>
    /// Starts the cloud (Maintenance on a fresh database), the broker-side observer and the device. With
    /// <paramref name="duplicateFraction"/> above zero the observer republishes that share of the predictions it sees
    /// with their original message id, so Maintenance receives each of them twice.
    /// </summary>
    /// <para>
    /// With <paramref name="cluster"/> everything goes to the three-node RabbitMQ cluster instead of the single node:
    /// every host (gateway, cloud, observer) knows all three nodes and fails over, and the gateway's bus link is direct.
    /// </para>
    /// <para>
    /// <paramref name="stalledPublishRestartAfter"/> sets <c>Messaging:StalledPublishRestartAfter</c> for the cloud and the
    /// gateway (30 s when null).
    /// </para>
    /// <para><paramref name="cloudExtra"/>: more <c>--key=value</c> settings for the cloud host.</para>
    public static async Task<DeliveryRig> StartAsync(string prefix, int assets, double duplicateFraction = 0, bool cluster = false,
        TimeSpan? stalledPublishRestartAfter = null, IReadOnlyList<string>? cloudExtra = null)
    {
        var site = LocalDependencies.UniqueName(prefix).Replace('_', '-');
        var database = await TestDatabase.CreateAsync(prefix);
        var vhost = cluster
            ? LocalDependencies.CreateRabbitMqClusterVirtualHost(LocalDependencies.UniqueName(prefix))
            : LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName(prefix));
        var endpoint = RabbitMqEndpoint.Parse(vhost);
        var busLink = new LoopbackTcpProxy(endpoint.Host, endpoint.Port);
        var gatewayVhost = cluster ? vhost : new UriBuilder(vhost) { Port = busLink.Port }.Uri;
        string[] clusterNodes = cluster
            ? [.. LocalDependencies.RabbitMqClusterNodes.Select((node, i) => $"--Messaging:RabbitMq:ClusterNodes:{i}={node}")]
            : [];
        string[] messaging = stalledPublishRestartAfter is { } stalledFor
            ? [.. clusterNodes, string.Create(CultureInfo.InvariantCulture, $"--Messaging:StalledPublishRestartAfter={stalledFor:c}")]
            : clusterNodes;

        string[] cloudSettings =
        [
            $"--ConnectionStrings:Postgres={database.ConnectionString}", "--Messaging:Transport=RabbitMq",
            $"--Messaging:RabbitMq:Uri={vhost}", .. messaging, "--Urls=http://127.0.0.1:0", "--PdM:Modules=Maintenance",
            .. TestTokenIssuer.Shared.Arguments, "--Logging:LogLevel:Default=Warning", .. cloudExtra ?? [],
        ];
        Assert.Equal(0, await MigrateCommand.RunAsync(cloudSettings));
        var cloud = HostComposition.Build(cloudSettings);
        await cloud.StartAsync();
        var api = TestTokenIssuer.Shared.AdminClient(ListeningAddress.Of(cloud));

        List<string> gatewaySettings =
        [
            .. TestGatewayArguments.For(site, gatewayVhost), .. messaging, "--Gateway:Mqtt:ReconnectMaxDelaySeconds=2",
            "--Journal:ReplayRatePerSecond=500", "--Journal:ReplayBurst=100", .. TestGatewayArguments.Pumps(assets),
        ];

        var device = new MqttClientFactory().CreateMqttClient();
        await device.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(LocalDependencies.MqttHost, LocalDependencies.MqttPort)
            .WithClientId($"dev-{site}").WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build());

        DeliveryRig? rig = null;
        var observer = TestBus.Create(vhost, cluster: cluster, endpoints: cfg =>
        {
            cfg.ReceiveEndpoint(ObserverQueue, e =>
            {
                if (cluster)
                {
                    // The observer's queue must outlive a node like the modules' queues do, or it would miss deliveries.
                    e.SetQuorumQueue();
                }

                e.Handler<FailurePredicted>(c => rig!.Observe(c));
                e.Handler<MaintenanceOutcomeRecorded>(c =>
                {
                    rig!.OutcomesDelivered.AddOrUpdate(c.MessageId ?? Guid.Empty, 1, (_, n) => n + 1);
                    return Task.CompletedTask;
                });
            });
        });
        rig = new DeliveryRig(site, assets, database, vhost, busLink, cloud, api, observer, device, gatewaySettings, duplicateFraction, cloudSettings);
        await observer.StartAsync();
        return rig;
    }

    /// <summary>The queue of the rig's own FailurePredicted consumer (beside Maintenance's), which counts deliveries at the broker.</summary>
    public const string ObserverQueue = "resilience-observer";

    /// <summary>The cloud host's settings (<c>--key=value</c>): for a replica process or a <c>PdM.Host</c> command.</summary>
    public IReadOnlyList<string> CloudSettings => _cloudSettings;

    /// <summary>The gateway's settings (<c>--key=value</c>), for an in-process host or a child process alike.</summary>
    public IReadOnlyList<string> GatewaySettings => _gatewaySettings;

    /// <summary>One round: a healthy, a zone-D and a healthy reading per asset, which raises exactly one prediction per asset.</summary>
    public Task PublishRoundAsync() => PublishAsync([2.0, 8.0, 2.0]);

    /// <summary><paramref name="perAsset"/> healthy readings per asset: traffic that raises no prediction.</summary>
    public Task PublishHealthyAsync(int perAsset) => PublishAsync([.. Enumerable.Repeat(2.0, perAsset)]);

    public async Task PublishAsync(IReadOnlyList<double> values, int? onlyAsset = null)
    {
        foreach (var value in values)
        {
            for (var a = 0; a < Assets; a++)
            {
                if (onlyAsset is { } only && only != a)
                {
                    continue;
                }

                _deviceClock = _deviceClock.AddMilliseconds(10);
                var json = string.Create(CultureInfo.InvariantCulture,
                    $$$"""{"schemaVersion":1,"deviceTime":"{{{_deviceClock:yyyy-MM-ddTHH:mm:ss.fffZ}}}","readings":{"vibration_rms_mm_s":{{{value}}}}}""");
                await _device.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(TelemetryTopics.Telemetry(Site, $"P{a}"))
                    .WithPayload(Encoding.UTF8.GetBytes(json)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                ReadingsSent++;
            }
        }
    }

    public async Task WaitDeliveredAsync(int distinct, string what, int timeoutSeconds = 90)
    {
        try
        {
            await Eventually.Until(() => Task.FromResult(Delivered.Count), n => n >= distinct, TimeSpan.FromSeconds(timeoutSeconds), what);
        }
        catch (TimeoutException timeout)
        {
            throw new TimeoutException($"{timeout.Message}\n{await DescribeAsync()}", timeout);
        }
    }

    /// <summary>Where the predictions are: seen by the observer (per asset), stored by Maintenance, still in the gateway's journal, and what the gateway logged.</summary>
    public async Task<string> DescribeAsync()
    {
        var perAsset = string.Join(' ', AssetOf.Values.GroupBy(a => a).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}={g.Count()}"));
        string inbox;
        try
        {
            inbox = (await CountInboxAsync()).ToString(CultureInfo.InvariantCulture);
        }
        catch (NpgsqlException exception)
        {
            inbox = "unknown (" + exception.Message + ")";
        }

        var log = GatewayLog.Lines.TakeLast(120).ToList();
        return $"observer: {Delivered.Count} distinct ({perAsset}); Maintenance inbox: {inbox}; gateway journal: {GatewayJournalState?.Invoke() ?? "n/a"}\n"
            + $"gateway log (last {log.Count} lines):\n  " + string.Join("\n  ", log);
    }

    /// <summary>
    /// The history after <paramref name="rounds"/> rounds: every asset's predictions delivered, stored once in the
    /// Maintenance inbox and takes effect once: folded into its asset's case and work order, or counted as suppressed by
    /// a case closed meanwhile (its cool-down); nothing more (no duplicate effect) and nothing less (no loss).
    /// Returns a one-line summary for the test output.
    /// </summary>
    public async Task<string> ReconcileAsync(int rounds)
    {
        var expected = Assets * rounds;
        await WaitDeliveredAsync(expected, $"all {expected} predictions delivered");
        // The probe's value is the effect count (-1: the API did not answer), so a timeout says how far it got.
        await Eventually.Until(
            async () => Effects(await TryGetCasesAsync()), effects => effects >= expected, TimeSpan.FromSeconds(90),
            $"every delivered prediction to take effect ({expected} folds into cases or suppressions; inbox {await CountInboxAsync()} before waiting)");

        // Give a late duplicate the chance to show itself before counting.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var cases = (await Eventually.Until(() => TryGetCasesAsync(), list => list is not null, TimeSpan.FromSeconds(30), "the case API"))!;
        var workOrders = await Eventually.Until(() => TryGetWorkOrdersAsync(), list => list is not null, TimeSpan.FromSeconds(30), "the work-order API");
        var stored = await CountInboxAsync();
        var deliveries = Delivered.Values.Sum();

        Assert.Equal(expected, Delivered.Count);
        for (var a = 0; a < Assets; a++)
        {
            var asset = $"P{a}";
            Assert.Equal(rounds, AssetOf.Values.Count(v => v == asset));
            Assert.Equal(rounds, Effects(cases.Where(c => c.AssetId == asset).ToList()));
        }

        Assert.Equal(expected, stored);
        Assert.Equal(Assets, workOrders!.Count);
        Assert.Equal(cases.Sum(c => c.PredictionCount), workOrders.Sum(w => w.PredictionCount));
        return string.Create(CultureInfo.InvariantCulture,
            $"readings sent={ReadingsSent} predictions expected={expected} delivered distinct={Delivered.Count} deliveries={deliveries} " +
            $"injected duplicates={DuplicatesInjected} stored(inbox)={stored} effective(work-order folds)={workOrders.Sum(w => w.PredictionCount)} " +
            $"suppressed(closed cases)={cases.Sum(c => c.SuppressedCount)}");
    }

    /// <summary>
    /// After a stream of alert rounds: waits until at least <paramref name="atLeast"/> predictions are delivered, Maintenance
    /// has folded every one seen, and nothing more arrives (a redelivered window decided again would come now); then tallies
    /// the decided windows per asset and any window seen under more than one prediction id.
    /// </summary>
    public async Task<WindowTally> SettleWindowsAsync(int atLeast, string what)
    {
        await WaitDeliveredAsync(atLeast, what);
        await Eventually.Until(
            async () => (Delivered.Count, Folded: (await TryGetWorkOrdersAsync())?.Sum(w => w.PredictionCount) ?? -1),
            seen => seen.Folded == seen.Count, TimeSpan.FromSeconds(60), "Maintenance to fold every prediction seen");
        await Task.Delay(TimeSpan.FromSeconds(3));
        var workOrders = await Eventually.Until(() => TryGetWorkOrdersAsync(), list => list is not null, TimeSpan.FromSeconds(30), "the work-order API");
        var twice = PredictionsByWindow.Where(w => w.Value.Count > 1).Select(w => $"{w.Key.Asset}@{w.Key.WindowEnd:HH:mm:ss.fff}×{w.Value.Count}").ToList();
        var perAsset = Enumerable.Range(0, Assets).Select(a => $"P{a}")
            .ToDictionary(a => a, a => PredictionsByWindow.Keys.Count(k => k.Asset == a), StringComparer.Ordinal);
        return new WindowTally(perAsset, twice, Delivered.Count, Delivered.Values.Sum(), workOrders!.Sum(w => w.PredictionCount), await CountInboxAsync());
    }

    private static int Effects(List<CaseResponse>? cases) => cases?.Sum(c => c.PredictionCount + c.SuppressedCount) ?? -1;

    /// <summary>The cases, or null while the API answers with an error.</summary>
    public Task<List<CaseResponse>?> TryGetCasesAsync() => TryGetListAsync<CaseResponse>("/api/cases?limit=500");

    /// <summary>The work orders, or null while the API answers with an error (its first queries after a PostgreSQL restart).</summary>
    public Task<List<WorkOrderResponse>?> TryGetWorkOrdersAsync() => TryGetListAsync<WorkOrderResponse>("/api/work-orders?limit=500");

    private async Task<List<T>?> TryGetListAsync<T>(string path)
    {
        try
        {
            return await Api.GetFromJsonAsync<List<T>>(path, ApiJson) ?? [];
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>Closes the open case of <paramref name="asset"/> through the API (Maintenance writes the outcome event to its outbox).</summary>
    public async Task CloseCaseAsync(string asset)
    {
        var cases = await Api.GetFromJsonAsync<List<CaseResponse>>($"/api/cases?assetId={asset}&status=Open", ApiJson);
        var open = Assert.Single(cases!);
        using var response = await Api.PostAsJsonAsync($"/api/cases/{open.Id}/outcome",
            new OutcomeRequest(MaintenanceOutcome.FailureConfirmed, "BRG", DateTimeOffset.UtcNow), ApiJson);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>Maintenance's outbox rows of one event type: how many wait undelivered, and the attempts made on them.</summary>
    public async Task<(long Waiting, long Attempts)> OutboxWaitingAsync(string messageType)
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*), coalesce(sum(attempts), 0) FROM maintenance.outbox WHERE message_type LIKE @t AND delivered_at IS NULL", connection);
        command.Parameters.AddWithValue("t", "%" + messageType + "%");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture));
    }

    public async Task<long> CountInboxAsync()
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM maintenance.inbox WHERE consumer = @c", connection);
        command.Parameters.AddWithValue("c", FailurePredictedConsumer.ConsumerName);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The gateway as a child process (the solution build's PdM.Edge.Gateway.dll), so a test can SIGKILL it.</summary>
    public ChildProcess StartGatewayProcess(params string[] more) =>
        ChildProcess.Start(LocalDependencies.ProgramDll("edge", "PdM.Edge.Gateway"),
            [.. _gatewaySettings, .. more], "Connected to MQTT broker");

    /// <summary>
    /// A second Maintenance replica as a child process (PdM.Host, same database and vhost as the in-process cloud): the
    /// two consume the module's queue as competing consumers, and a test can SIGKILL this one.
    /// </summary>
    public ChildProcess StartCloudReplicaProcess() =>
        ChildProcess.Start(LocalDependencies.ProgramDll("services", "PdM.Host"),
            [.. _cloudSettings, "--Logging:LogLevel:PdM.Maintenance=Information"], "PdM bus ready");

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        _device.Dispose();
        await _observer.StopAsync();
        await _cloud.StopAsync();
        await _cloud.DisposeAsync();
        await BusLink.DisposeAsync();
        await _database.DisposeAsync();
    }

    private async Task Observe(ConsumeContext<FailurePredicted> context)
    {
        var count = Delivered.AddOrUpdate(context.Message.PredictionId, 1, (_, n) => n + 1);
        AssetOf[context.Message.PredictionId] = context.Message.AssetId;
        DecidedBy.TryAdd(context.Message.PredictionId, (context.Message.Provenance.GatewayId, DateTimeOffset.UtcNow));
        var window = (context.Message.AssetId, context.Message.Evidence.Max(e => e.WindowEnd));
        PredictionsByWindow.GetOrAdd(window, _ => new ConcurrentDictionary<Guid, byte>()).TryAdd(context.Message.PredictionId, 0);
        if (count != 1 || _duplicateFraction <= 0)
        {
            return;
        }

        // Every k-th distinct prediction is sent again with its original message id: a redelivery, exactly the share asked.
        var seen = Interlocked.Increment(ref _distinctSeen);
        var every = (int)Math.Round(1 / _duplicateFraction);
        if (seen % every == 0)
        {
            var messageId = context.MessageId;
            await context.Publish(context.Message, p => p.MessageId = messageId);
            Interlocked.Increment(ref _duplicatesInjected);
        }
    }
}

/// <summary>
/// What <see cref="DeliveryRig.SettleWindowsAsync"/> found: windows decided per asset, the windows decided under more than
/// one prediction id (each folded into a work order again), and the predictions seen, delivered, folded and stored.
/// </summary>
internal sealed record WindowTally(
    IReadOnlyDictionary<string, int> WindowsPerAsset, IReadOnlyList<string> DecidedTwice, int Predictions, int Deliveries, int Folded, long Inbox)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"windows decided per asset: {string.Join(' ', WindowsPerAsset.Select(p => $"{p.Key}={p.Value}"))}; predictions {Predictions} " +
        $"(delivered {Deliveries} times: a window decided again comes under its first id), folded {Folded}, inbox {Inbox}; decided twice: {DecidedTwice.Count}");
}
