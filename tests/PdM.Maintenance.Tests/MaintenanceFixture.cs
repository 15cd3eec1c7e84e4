using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using PdM.Cmms.Stubs;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Api;
using PdM.Maintenance.Outbox;
using PdM.Maintenance.Persistence;
using PdM.Testing;

namespace PdM.Maintenance.Tests;

[CollectionDefinition(Name)]
public sealed class MaintenanceSuite : ICollectionFixture<MaintenanceFixture>
{
    public const string Name = "maintenance";
}

/// <summary>
/// One Maintenance host for the suite: a fresh PostgreSQL database, its own RabbitMQ vhost, and the CMMS stubs on
/// 127.0.0.1. Every test gets its own site, and every site its own stub tenant (records, faults, credentials), so
/// tests never see each other's records or faults.
/// </summary>
public sealed class MaintenanceFixture : IAsyncLifetime
{
    public const string GoodAsset = "PUMP-101";
    public const string SapPassword = "sap-secret";
    public const string MaximoKey = "maximo-key";
    public const string WebhookSecret = "hook-secret";

    /// <summary>The sites whose Maximo is <see cref="Outage"/>.</summary>
    public const string OutageSite = "mx-outage";

    /// <inheritdoc cref="OutageSite"/>
    public const string OutageTrialSite = "mx-outage-trial";

    /// <inheritdoc cref="OutageSite"/>
    public const string OutageParkSite = "mx-outage-park";

    /// <summary>
    /// <c>Maintenance:Delivery:MaxAttempts</c> for the suite (the product's default, said out loud): with the suite's 1 s
    /// breaker cool-down an outage outlasts it in about as many seconds.
    /// </summary>
    public const int MaxAttempts = 12;

    /// <summary><c>Maintenance:Delivery:RequestTimeout</c> for the suite: how long one CMMS request is waited for.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary><c>Maintenance:Delivery:InDoubtWait</c> for the suite: after a create that got no answer, the least wait before the lookup.</summary>
    public static readonly TimeSpan InDoubtWait = TimeSpan.FromSeconds(5);

    /// <summary>An asset whose id, maintainable item and recommendation are long and not ASCII: every text field must fit.</summary>
    public const string LongAsset = "CWP-NORTH-LINE-7-MAIN-COOLING-WATER-PUMP-0042";

    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private ModuleTestHost? _host;

    public CmmsStubServer Stubs { get; private set; } = null!;

    /// <summary>
    /// A Maximo of its own for <see cref="OutageSite"/>, <see cref="OutageTrialSite"/> and <see cref="OutageParkSite"/>,
    /// which tests stop and start again. Each site is an endpoint with its own breaker.
    /// </summary>
    public RestartableCmmsStub Outage { get; private set; } = null!;

    public HttpClient Api { get; private set; } = null!;

    public LogCapture Logs { get; } = new();

    /// <summary>What another module would receive from Maintenance over RabbitMQ.</summary>
    public BusMessages Events { get; } = new();

    public IBus Bus => _host!.Services.GetRequiredService<IBus>();

    /// <summary>A client of the Maintenance API acting as <paramref name="user"/> with <paramref name="roles"/>.</summary>
    public HttpClient Client(string user, params string[] roles) => _host!.CreateClient(user, roles);

    /// <summary>The suite's database, for tests that corrupt a row on purpose.</summary>
    public string ConnectionString => _host!.Backend!.ConnectionString;

    public async Task InitializeAsync()
    {
        static void Credentials(CmmsStubOptions o)
        {
            o.MaximoApiKey = MaximoKey;
            o.SapPassword = SapPassword;
            o.SapClient = "100";
            o.WebhookSecret = WebhookSecret;
        }

        Stubs = await CmmsStubServer.StartAsync(configure: Credentials);
        Outage = await RestartableCmmsStub.StartAsync(Credentials);

        var settings = new Dictionary<string, string?>
        {
            ["Maintenance:AcceptUnconfiguredSites"] = "false",
            ["Maintenance:Delivery:PollInterval"] = "00:00:00.100",
            ["Maintenance:Delivery:BackoffBase"] = "00:00:00.100",
            ["Maintenance:Delivery:BackoffMax"] = "00:00:01",
            ["Maintenance:Delivery:MaxAttempts"] = MaxAttempts.ToString(CultureInfo.InvariantCulture),
            ["Maintenance:Delivery:BreakerFailureThreshold"] = "3",
            ["Maintenance:Delivery:BreakerCooldown"] = "00:00:01",
            ["Maintenance:Delivery:AuthFailureCooldown"] = "01:00:00",
            ["Maintenance:Delivery:RequestTimeout"] = RequestTimeout.ToString("c", CultureInfo.InvariantCulture),
            ["Maintenance:Delivery:InDoubtWait"] = InDoubtWait.ToString("c", CultureInfo.InvariantCulture),
            ["Maintenance:StatusSync:Interval"] = "00:00:00.300",
        };
        foreach (var site in new[] { "mx-sr", "mx-crash", "mx-slow", "mx-gateway", "mx-429", "mx-5xx", "mx-feedback", "strict" })
        {
            Maximo(settings, site, workOrders: false, MaximoKey);
        }

        Maximo(settings, "mx-wo", workOrders: true, MaximoKey);
        Maximo(settings, "mx-cool", workOrders: false, MaximoKey);
        settings["Maintenance:Sites:mx-cool:Cooldown"] = "00:00:01";
        Maximo(settings, "mx-bulk", workOrders: true, MaximoKey);
        Maximo(settings, "mx-auth", workOrders: false, "not-the-key");
        foreach (var site in new[] { "sap-create", "sap-crash", "sap-429", "sap-5xx", "sap-csrf", "sap-feedback" })
        {
            Sap(settings, site, SapPassword);
        }

        Sap(settings, "sap-auth", "wrong-password");
        Sap(settings, "sap-contract", SapPassword);
        Sap(settings, "sap-links", SapPassword);
        foreach (var site in new[] { "sap-park", "sap-park-bulk" })
        {
            Sap(settings, site, SapPassword);
            settings[$"Maintenance:Sites:{site}:Cmms:Sap:WorkOrderNotificationType"] = "Z2";
        }
        Maximo(settings, "mx-contract-sr", workOrders: false, MaximoKey);
        Maximo(settings, "mx-contract-wo", workOrders: true, MaximoKey);
        Maximo(settings, "mx-links", workOrders: true, MaximoKey);
        Maximo(settings, "mx-isolate", workOrders: true, MaximoKey);
        foreach (var site in new[] { OutageSite, OutageTrialSite, OutageParkSite })
        {
            Maximo(settings, site, workOrders: true, MaximoKey);
            settings[$"Maintenance:Sites:{site}:Cmms:Maximo:BaseUrl"] = Outage.MaximoUrl(site).ToString();
        }

        // Real systems answer with relative links too (RFC 9110 §10.2.2): these tenants do, the others answer absolute.
        Stubs.Sap.Tenant("sap-links").Links = StubLinkStyle.PathAbsolute;
        Stubs.Maximo.Tenant("mx-links").Links = StubLinkStyle.Relative;
        Webhook(settings, "hook", WebhookSecret);
        Webhook(settings, "hook-auth", "wrong-secret");
        settings["Maintenance:Sites:strict:Assets:NOREF-1:Criticality"] = "B";

        _host = await ModuleTestHost.StartAsync(MaintenanceModule.Descriptor, await ModuleTestBackend.CreateAsync("maint"), settings, Logs,
            configure: builder => builder.Services.AddSingleton(Events),
            consumers: bus => bus.Collect<WorkOrderRaised>().Collect<MaintenanceCaseEscalated>().Collect<MaintenanceOutcomeRecorded>());
        Api = _host.Api;
    }

    public async Task DisposeAsync()
    {
        await Logs.SaveIfAskedAsync();

        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (Stubs is not null)
        {
            await Stubs.DisposeAsync();
        }

        if (Outage is not null)
        {
            await Outage.DisposeAsync();
        }
    }

    /// <summary>A prediction as the gateway sends it: VIB on the DE bearing, with evidence and a model's RUL.</summary>
    public static FailurePredicted Prediction(string site, string asset = GoodAsset, double confidence = 0.9, double? rulHours = 310,
        HealthState health = HealthState.Alert, string mode = "VIB") => new()
    {
        PredictionId = Guid.NewGuid(),
        SiteId = site,
        AssetId = asset,
        FailureMode = mode,
        Severity = FailureSeverity.Incipient,
        HealthState = health,
        Confidence = confidence,
        RemainingUsefulLife = rulHours is { } h ? new RulEstimate(RulUnit.Hours, h, P10: h * 0.4, P90: h * 2) : null,
        Evidence =
        [
            new Evidence
            {
                Signal = "DE velocity RMS",
                Value = 7.1,
                Unit = "mm/s",
                Limit = 4.5,
                WindowStart = DateTimeOffset.Parse("2026-11-20T00:00:00Z", CultureInfo.InvariantCulture),
                WindowEnd = DateTimeOffset.Parse("2026-11-23T00:00:00Z", CultureInfo.InvariantCulture),
                Source = "spBv1.0/PlantA/DDATA/edge-3/pump101",
            },
        ],
        Provenance = new DecisionProvenance { Path = DecisionPath.Model, GatewayId = "edge-3", ModelName = "brg-rul", ModelVersion = "3.1.0", ModelDigest = new string('a', 64) },
        OccurredAt = DateTimeOffset.UtcNow,
    };

    public Task Publish(FailurePredicted prediction) => Bus.Publish(prediction);

    public async Task<List<WorkOrderResponse>> WorkOrders(string asset = GoodAsset) =>
        await Api.GetFromJsonAsync<List<WorkOrderResponse>>($"/api/work-orders?assetId={asset}&limit=500", ApiJson) ?? [];

    public async Task<List<CaseResponse>> Cases(string site, string asset = GoodAsset) =>
        await Api.GetFromJsonAsync<List<CaseResponse>>($"/api/cases?siteId={site}&assetId={asset}", ApiJson) ?? [];

    public async Task<WorkOrderResponse> WorkOrder(Guid id) =>
        (await Api.GetFromJsonAsync<WorkOrderResponse>($"/api/work-orders/{id}", ApiJson))!;

    public async Task<CaseResponse> Case(Guid id) => (await Api.GetFromJsonAsync<CaseResponse>($"/api/cases/{id}", ApiJson))!;

    public async Task<List<RejectionResponse>> Rejections(string site) =>
        await Api.GetFromJsonAsync<List<RejectionResponse>>($"/api/rejections?siteId={site}", ApiJson) ?? [];

    /// <summary>The site's only case once its work order reached <paramref name="delivery"/>.</summary>
    /// <summary>The circuit breaker of one CMMS endpoint (<c>maximo@site</c>) as <c>GET /api/cmms/breakers</c> shows it; null before its first request.</summary>
    public async Task<BreakerSnapshot?> Breaker(string endpoint) =>
        (await Api.GetFromJsonAsync<List<BreakerSnapshot>>("/api/cmms/breakers", ApiJson))!.SingleOrDefault(b => b.Endpoint == endpoint);

    public async Task<CaseResponse> DeliveredCase(string site, string asset = GoodAsset, string delivery = "Delivered", double seconds = 30) =>
        await Eventually.Until(async () => (await Cases(site, asset)).SingleOrDefault(),
            c => c?.WorkOrder?.Cmms?.Delivery == delivery, $"the work order of {site}/{asset} to be {delivery}", seconds) ?? throw new InvalidOperationException();

    public static JsonSerializerOptions Json => ApiJson;

    private void Maximo(Dictionary<string, string?> settings, string site, bool workOrders, string key)
    {
        var p = $"Maintenance:Sites:{site}";
        settings[$"{p}:Cmms:Adapter"] = "Maximo";
        settings[$"{p}:Cmms:Maximo:BaseUrl"] = Stubs.MaximoUrl(site).ToString();
        settings[$"{p}:Cmms:Maximo:ApiKey"] = key;
        settings[$"{p}:Cmms:Maximo:CreateWorkOrders"] = workOrders ? "true" : "false";
        Registry(settings, site);
    }

    private void Sap(Dictionary<string, string?> settings, string site, string password)
    {
        var p = $"Maintenance:Sites:{site}";
        settings[$"{p}:Cmms:Adapter"] = "Sap";
        settings[$"{p}:Cmms:Sap:BaseUrl"] = Stubs.SapUrl(site).ToString();
        settings[$"{p}:Cmms:Sap:Client"] = "100";
        settings[$"{p}:Cmms:Sap:User"] = "PDM_RFC";
        settings[$"{p}:Cmms:Sap:Password"] = password;
        Registry(settings, site);
    }

    private void Webhook(Dictionary<string, string?> settings, string site, string secret)
    {
        var p = $"Maintenance:Sites:{site}";
        settings[$"{p}:Cmms:Adapter"] = "Webhook";
        settings[$"{p}:Cmms:Webhook:Url"] = Stubs.WebhookUrl(site).ToString();
        settings[$"{p}:Cmms:Webhook:Secret"] = secret;
        Registry(settings, site);
    }

    /// <summary>The asset registry and failure-mode catalogue every test site shares (INTEGRATIONS.md §5 example).</summary>
    private static void Registry(Dictionary<string, string?> settings, string site)
    {
        var p = $"Maintenance:Sites:{site}";
        settings[$"{p}:WorkOrderConfidence"] = "0.7";
        settings[$"{p}:Cooldown"] = "7.00:00:00";
        foreach (var asset in new[] { GoodAsset, "PUMP-102", "PUMP-103", LongAsset })
        {
            var a = $"{p}:Assets:{asset}";
            settings[$"{a}:Criticality"] = "B";
            settings[$"{a}:EquipmentClass"] = "PU";
            settings[$"{a}:Subunit"] = "Power transmission";
            settings[$"{a}:MaintainableItem"] = asset == LongAsset
                ? "Gleitringdichtung antriebsseitig der Kühlwasserpumpe Förderstrecke Süd – Lager ⚙ 🔧 (Ø 120 mm)"
                : "Bearing DE";
            settings[$"{a}:Maximo:SiteId"] = "BEDFORD";
            settings[$"{a}:Maximo:AssetNum"] = asset == GoodAsset ? "11430" : "1143" + asset[^1];
            settings[$"{a}:Maximo:Location"] = "BPM3100";
            settings[$"{a}:Maximo:FailureClass"] = "PUMPS";
            settings[$"{a}:Sap:TechnicalObject"] = "10000123";
            settings[$"{a}:Sap:Type"] = "EAMS_EQUI";
            settings[$"{a}:Sap:Plant"] = "1010";
            settings[$"{a}:Sap:WorkCenter"] = "RES-0100";
            settings[$"{a}:Sap:PlannerGroup"] = "100";
            settings[$"{a}:Sap:ObjectPartCodeGroup"] = "PUMP";
            settings[$"{a}:Sap:ObjectPartCode"] = "BRG";
        }

        var m = $"{p}:FailureModes:VIB";
        settings[$"{m}:Mechanism"] = "2.4";
        settings[$"{m}:ProblemCode"] = "VIB";
        settings[$"{m}:DamageCodeGroup"] = "PM1";
        settings[$"{m}:DamageCode"] = "VIB";
        settings[$"{m}:CauseCodeGroup"] = "PMCAUSE";
        settings[$"{m}:CauseCode"] = "WEAR";
        settings[$"{m}:Activity"] = "Replace";
        settings[$"{m}:Recommendation"] = "Replace DE bearing; check alignment";
        settings[$"{m}:EstimatedHours"] = "4";
        settings[$"{m}:DowntimeRequired"] = "true";

        // A mode with a damage code but no cause, and a recommendation in German with symbols.
        var b = $"{p}:FailureModes:BRD";
        settings[$"{b}:Mechanism"] = "1.1";
        settings[$"{b}:ProblemCode"] = "BRD";
        settings[$"{b}:DamageCodeGroup"] = "PM1";
        settings[$"{b}:DamageCode"] = "BRD";
        settings[$"{b}:Activity"] = "Check";
        settings[$"{b}:Recommendation"] = "Gleitlager prüfen; Ölstand messen – Ausrichtung ≤ 0,05 mm, Schwingung ≥ 7,1 mm/s ⇒ Stillstand";
        settings[$"{b}:EstimatedHours"] = "2.5";
    }
}
