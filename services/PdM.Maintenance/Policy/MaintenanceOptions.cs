using System.ComponentModel.DataAnnotations;

namespace PdM.Maintenance.Policy;

/// <summary>Section <c>Maintenance</c>: per-site policy, asset registry and CMMS adapter; delivery and status-sync tuning.</summary>
public sealed class MaintenanceOptions : IValidatableObject
{
    public const string Section = "Maintenance";

    /// <summary>Policy, assets and CMMS per site id (keys compare case-insensitively).</summary>
    public Dictionary<string, SiteOptions> Sites { get; set; } = [];

    /// <summary>
    /// What a prediction from a site that is not listed gets: <c>true</c> (default) opens cases under
    /// <see cref="DefaultSite"/> with no CMMS delivery (log only); <c>false</c> rejects it as an unknown site.
    /// </summary>
    public bool AcceptUnconfiguredSites { get; set; } = true;

    /// <summary>Policy for sites not listed in <see cref="Sites"/> when <see cref="AcceptUnconfiguredSites"/> is on.</summary>
    public SiteOptions DefaultSite { get; set; } = new() { RequireRegisteredAssets = false };

    public DeliveryOptions Delivery { get; set; } = new();

    public StatusSyncOptions StatusSync { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (siteId, site) in Sites)
        {
            foreach (var problem in site.Problems())
            {
                yield return new ValidationResult($"Maintenance:Sites:{siteId}:{problem}", [nameof(Sites)]);
            }
        }

        foreach (var problem in DefaultSite.Problems())
        {
            yield return new ValidationResult($"Maintenance:DefaultSite:{problem}", [nameof(DefaultSite)]);
        }
    }
}

public enum AssetCriticality
{
    A = 0,
    B = 1,
    C = 2,
}

public enum CmmsAdapterKind
{
    /// <summary>Cases and work orders are kept and logged only.</summary>
    None = 0,
    Maximo = 1,
    Sap = 2,
    Webhook = 3,
}

public sealed class SiteOptions
{
    /// <summary>At or above this confidence the CMMS gets a work order; below it, a request for triage (Maximo SR, SAP M1).</summary>
    [Range(0.0, 1.0)]
    public double WorkOrderConfidence { get; set; } = 0.7;

    /// <summary>Criticality-C assets only ever get requests, whatever the confidence.</summary>
    public bool RequestsOnlyForCriticalityC { get; set; } = true;

    /// <summary>After a case closes, predictions of the same condition are folded into it (counted) for this long.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan Cooldown { get; set; } = TimeSpan.FromDays(7);

    /// <summary>RUL (P50, hours) at or below which the case is urgent / high / medium priority.</summary>
    [Range(0.0, 100_000.0)]
    public double UrgentRulHours { get; set; } = 24;

    [Range(0.0, 100_000.0)]
    public double HighRulHours { get; set; } = 72;

    [Range(0.0, 100_000.0)]
    public double MediumRulHours { get; set; } = 168;

    /// <summary>The recommended latest finish is this fraction of the pessimistic RUL (P10, else P50) from now.</summary>
    [Range(0.05, 1.0)]
    public double LatestFinishFraction { get; set; } = 0.8;

    /// <summary>Predictions for assets missing from <see cref="Assets"/> are rejected (unknown asset).</summary>
    public bool RequireRegisteredAssets { get; set; } = true;

    public Dictionary<string, AssetOptions> Assets { get; set; } = [];

    /// <summary>Failure-mode catalogue: ISO 14224 mechanism, CMMS codes and the recommended action per mode code.</summary>
    public Dictionary<string, FailureModeOptions> FailureModes { get; set; } = [];

    public CmmsOptions Cmms { get; set; } = new();

    /// <summary>Close codes that mean "no fault found" (Maximo problem code, SAP damage code).</summary>
    public List<string> NoFaultFoundCodes { get; set; } = ["NFF", "NOFAULT"];

    internal IEnumerable<string> Problems()
    {
        if (!(UrgentRulHours <= HighRulHours && HighRulHours <= MediumRulHours))
        {
            yield return "UrgentRulHours <= HighRulHours <= MediumRulHours must hold";
        }

        foreach (var problem in Cmms.Problems())
        {
            yield return "Cmms:" + problem;
        }

        foreach (var (assetId, asset) in Assets)
        {
            if (asset.Sap is { } sap && sap.Type is not ("EAMS_EQUI" or "EAMS_FL"))
            {
                yield return $"Assets:{assetId}:Sap:Type must be EAMS_EQUI or EAMS_FL, not '{sap.Type}'";
            }
        }
    }
}

public sealed class AssetOptions
{
    public AssetCriticality Criticality { get; set; } = AssetCriticality.B;

    /// <summary>ISO 14224 equipment class code (PU, CO, EM, …).</summary>
    [MaxLength(16)]
    public string? EquipmentClass { get; set; }

    public string? Subunit { get; set; }

    public string? MaintainableItem { get; set; }

    public MaximoAssetOptions? Maximo { get; set; }

    public SapAssetOptions? Sap { get; set; }
}

public sealed class MaximoAssetOptions
{
    [Required]
    [MaxLength(8)]
    public string SiteId { get; set; } = "";

    [MaxLength(25)]
    public string? AssetNum { get; set; }

    [MaxLength(25)]
    public string? Location { get; set; }

    /// <summary>Failure class (<c>failurecode</c>); defaults to the equipment class.</summary>
    [MaxLength(8)]
    public string? FailureClass { get; set; }
}

public sealed class SapAssetOptions
{
    [Required]
    [MaxLength(40)]
    public string TechnicalObject { get; set; } = "";

    public string Type { get; set; } = "EAMS_EQUI";

    [MaxLength(4)]
    public string? Plant { get; set; }

    [MaxLength(8)]
    public string? WorkCenter { get; set; }

    [MaxLength(3)]
    public string? PlannerGroup { get; set; }

    /// <summary>Object-part catalog code group and code (e.g. PUMP / BRG).</summary>
    public string? ObjectPartCodeGroup { get; set; }

    public string? ObjectPartCode { get; set; }
}

public sealed class FailureModeOptions
{
    /// <summary>ISO 14224 Table B.2 mechanism, e.g. "2.4" (wear).</summary>
    public string? Mechanism { get; set; }

    public string? Cause { get; set; }

    /// <summary>Maximo problem code; defaults to the mode code.</summary>
    public string? ProblemCode { get; set; }

    public string? DamageCodeGroup { get; set; }

    /// <summary>SAP damage code; defaults to the mode code.</summary>
    public string? DamageCode { get; set; }

    public string? CauseCodeGroup { get; set; }

    public string? CauseCode { get; set; }

    public string Activity { get; set; } = "Inspect";

    public string? Recommendation { get; set; }

    public double? EstimatedHours { get; set; }

    public bool? DowntimeRequired { get; set; }
}

public sealed class CmmsOptions
{
    public CmmsAdapterKind Adapter { get; set; } = CmmsAdapterKind.None;

    public MaximoOptions? Maximo { get; set; }

    public SapOptions? Sap { get; set; }

    public WebhookOptions? Webhook { get; set; }

    internal IEnumerable<string> Problems()
    {
        switch (Adapter)
        {
            case CmmsAdapterKind.Maximo when Maximo?.BaseUrl is null || string.IsNullOrEmpty(Maximo.ApiKey):
                yield return "Maximo:BaseUrl and Maximo:ApiKey are required when Adapter is Maximo";
                break;
            case CmmsAdapterKind.Sap when Sap?.BaseUrl is null || string.IsNullOrEmpty(Sap.User):
                yield return "Sap:BaseUrl and Sap:User are required when Adapter is Sap";
                break;
            case CmmsAdapterKind.Webhook when Webhook?.Url is null || string.IsNullOrEmpty(Webhook.Secret):
                yield return "Webhook:Url and Webhook:Secret are required when Adapter is Webhook";
                break;
            default:
                break;
        }
    }
}

public sealed class MaximoOptions
{
    /// <summary>Server root, e.g. <c>https://mas.example.com/maximo</c>; the adapter appends <c>/api/os/…</c>.</summary>
    public Uri? BaseUrl { get; set; }

    public string ApiKey { get; set; } = "";

    /// <summary>Create work orders (MXAPIWODETAIL, status WAPPR) when the confidence gate allows; otherwise always SRs.</summary>
    public bool CreateWorkOrders { get; set; }

    [MaxLength(5)]
    public string WorkType { get; set; } = "CM";

    [MaxLength(62)]
    public string ReportedBy { get; set; } = "PDM";

    public string ServiceRequestObjectStructure { get; set; } = "mxapisr";

    public string WorkOrderObjectStructure { get; set; } = "mxapiwodetail";
}

public sealed class SapOptions
{
    /// <summary>Service root, e.g. <c>https://s4.example.com/sap/opu/odata/sap/API_MAINTNOTIFICATION</c>.</summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>On-premise client (<c>sap-client</c> query parameter); empty for S/4HANA Cloud.</summary>
    public string? Client { get; set; }

    public string User { get; set; } = "";

    public string Password { get; set; } = "";

    /// <summary>Notification type for work-order-grade predictions (M2 malfunction report) and for requests (M1).</summary>
    public string WorkOrderNotificationType { get; set; } = "M2";

    public string RequestNotificationType { get; set; } = "M1";

    [MaxLength(12)]
    public string ReportedByUser { get; set; } = "PDM";
}

public sealed class WebhookOptions
{
    public Uri? Url { get; set; }

    /// <summary>HMAC-SHA256 key for <c>X-PdM-Signature</c>.</summary>
    public string Secret { get; set; } = "";
}

public sealed class DeliveryOptions : IValidatableObject
{
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    [Range(1, 1000)]
    public int BatchSize { get; set; } = 50;

    /// <summary>Transient failures before a delivery is parked for an operator.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 12;

    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan BackoffMax { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Consecutive failures of one adapter endpoint that open its circuit breaker.</summary>
    [Range(1, 100)]
    public int BreakerFailureThreshold { get; set; } = 5;

    /// <summary>How long an open breaker waits before letting one trial request through (half-open).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan BreakerCooldown { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>After an authentication failure the breaker stays open this long, so a bad key costs one request, not a storm.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan AuthFailureCooldown { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>One HTTP request to the CMMS.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// One delivery attempt, every request it makes (a lookup by reference, SAP's CSRF token, the create or update):
    /// an attempt still running then is abandoned and retried like a CMMS that did not answer. It bounds how long a
    /// replica works on one row between lease renewals, which is what lets <see cref="LeaseDuration"/> be trusted.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// After a create that got no answer (timed out, its connection dropped after sending, its attempt abandoned), the
    /// least wait before the next attempt looks the record up by its reference: a CMMS slower than
    /// <see cref="RequestTimeout"/> may still carry the create out, and a lookup before it has would create a second
    /// record. Set it above the CMMS's slowest create.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan InDoubtWait { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a Maintenance replica's hold on its outbox (CMMS deliveries and its bus events) lasts without renewal:
    /// once a replica dies, another takes its rows over this long after its last renewal. Renewed only between
    /// deliveries, so it is at least twice <see cref="AttemptTimeout"/>; shorter, a replica still waiting on a slow CMMS
    /// would lose it and a second replica would send the same work order beside it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:02", "00:10:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (AttemptTimeout < RequestTimeout)
        {
            yield return new ValidationResult(
                $"AttemptTimeout ({AttemptTimeout}) is below RequestTimeout ({RequestTimeout}): no request could use its own timeout",
                [nameof(AttemptTimeout)]);
        }

        // The lease also covers Maintenance's bus events, published under the outbox's default publish timeout.
        var publishTimeout = new PdM.Persistence.OutboxOptions().PublishTimeout;
        if (LeaseDuration < 2 * publishTimeout)
        {
            yield return new ValidationResult(
                $"LeaseDuration ({LeaseDuration}) must be at least twice the bus publish timeout ({publishTimeout}): the lease also covers Maintenance's bus events",
                [nameof(LeaseDuration)]);
        }

        if (LeaseDuration < 2 * AttemptTimeout)
        {
            yield return new ValidationResult(
                $"LeaseDuration ({LeaseDuration}) must be at least twice AttemptTimeout ({AttemptTimeout}): the lease could run out during a delivery and another replica send the same work order",
                [nameof(LeaseDuration)]);
        }
    }
}

public sealed class StatusSyncOptions
{
    public bool Enabled { get; set; } = true;

    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 200;

    /// <summary>
    /// Longest wait before a record whose status could not be read is read again; the wait doubles from
    /// <see cref="Interval"/> with each failure in a row. Other records keep syncing every round.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "7.00:00:00")]
    public TimeSpan FailureBackoffMax { get; set; } = TimeSpan.FromHours(1);
}
