using System.Globalization;
using PdM.Cmms.Stubs;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Api;
using PdM.Maintenance.Cmms;
using PdM.Testing;

namespace PdM.Maintenance.Tests;

/// <summary>
/// Every request shape the SAP and Maximo adapters send, driven through stubs that validate against the vendors' published
/// definitions (services/PdM.Cmms.Stubs/Contracts): work orders and requests, every priority, modes with and without
/// catalog codes, long and non-ASCII texts, many evidence lines, escalations, a 429 and an expired CSRF token on the way.
/// Each record must be accepted on its first valid attempt (the stub refuses nothing), exactly once.
/// </summary>
[Collection(MaintenanceSuite.Name)]
public sealed class CmmsContractTests(MaintenanceFixture fixture)
{
    private const string LongAsset = MaintenanceFixture.LongAsset;

    /// <summary>The shapes: (asset, mode, health, confidence, RUL hours, evidence lines) → priority and kind vary.</summary>
    private static IEnumerable<FailurePredicted> Shapes(string site)
    {
        yield return MaintenanceFixture.Prediction(site, health: HealthState.Danger, confidence: 0.95);                              // URGENT, WO, damage + object part + cause
        yield return MaintenanceFixture.Prediction(site, asset: "PUMP-102", health: HealthState.Alert, confidence: 0.5);               // HIGH, request
        yield return MaintenanceFixture.Prediction(site, asset: "PUMP-103", health: HealthState.Watch, rulHours: 150);               // MEDIUM, WO
        yield return MaintenanceFixture.Prediction(site, asset: LongAsset, mode: "OHE", health: HealthState.Healthy, rulHours: 900); // LOW, no catalog codes
        yield return WithEvidence(MaintenanceFixture.Prediction(site, asset: LongAsset, mode: "BRD", health: HealthState.Alert, rulHours: null, confidence: 0.97), 30);
    }

    [Fact]
    public async Task SAP_accepts_every_notification_shape_on_the_first_attempt_under_429_and_an_expired_csrf_token()
    {
        const string site = "sap-contract";
        var tenant = fixture.Stubs.Sap.Tenant(site);
        using var metrics = new MetricRecorder(MaintenanceTelemetry.MeterName);
        tenant.Faults.Enqueue(StubFaultKind.TooManyRequests, retryAfter: TimeSpan.FromMilliseconds(200));

        foreach (var prediction in Shapes(site))
        {
            await fixture.Publish(prediction);
        }

        var cases = await Delivered(site, 5);
        tenant.ExpireTokens();
        var escalating = cases.Single(c => c.AssetId == "PUMP-103");
        await fixture.Publish(MaintenanceFixture.Prediction(site, asset: "PUMP-103", health: HealthState.Danger, rulHours: 20));
        await Eventually.Until(() => fixture.Case(escalating.Id), c => c.Priority == WorkOrderPriority.Urgent && c.WorkOrder!.Cmms!.Delivery == "Delivered"
            && tenant.Notifications[c.WorkOrder.Cmms.RecordId!].UpdateCount == 1, "the escalation to reach SAP behind a fresh CSRF token");

        Assert.Equal(0, tenant.Rejected);
        Assert.Equal(5, tenant.Notifications.Count);
        Assert.Equal(2, tenant.TokenFetches);
        foreach (var @case in cases)
        {
            var notification = tenant.Notifications[@case.WorkOrder!.Cmms!.RecordId!];
            var reference = @case.WorkOrder.Cmms.Reference!;
            Assert.Equal(reference, notification.Field("MaintNotifExtReferenceNumber"));
            Assert.Matches("^[0-9A-Z]{20}$", reference);
            Assert.InRange(notification.Field("NotificationText")!.Length, 1, SapAdapter.NotificationTextLength);
            Assert.InRange(notification.Field("MaintNotifLongTextForEdit")!.Length, 1, SapAdapter.LongTextLength);
            Assert.Equal(@case.WorkOrder.Kind == "request" ? "M1" : "M2", notification.Field("NotificationType"));
        }

        Assert.Equal("1,1,2,4,2", string.Join(',', cases.OrderBy(Order).Select(c => tenant.Notifications[c.WorkOrder!.Cmms!.RecordId!].Field("MaintPriority"))));

        // Catalog codes: damage + object part + cause where the site's catalogue has them, none for an uncoded mode.
        var coded = tenant.Notifications[cases.Single(c => c.AssetId == MaintenanceFixture.GoodAsset).WorkOrder!.Cmms!.RecordId!];
        var item = Assert.Single(coded.Items);
        Assert.Equal("VIB", (string?)item["MaintNotificationDamageCode"]);
        Assert.Equal("BRG", (string?)item["MaintNotifObjPrtCode"]);
        Assert.Equal("WEAR", (string?)item["to_ItemCause"]!["results"]![0]!["MaintNotificationCauseCode"]);
        var uncoded = Assert.Single(tenant.Notifications[cases.Single(c => c.FailureMode == "OHE").WorkOrder!.Cmms!.RecordId!].Items);
        Assert.Null(uncoded["MaintNotificationDamageCode"]);
        Assert.Equal("BRG", (string?)uncoded["MaintNotifObjPrtCode"]);
        var brd = tenant.Notifications[cases.Single(c => c.FailureMode == "BRD").WorkOrder!.Cmms!.RecordId!];
        Assert.Null(Assert.Single(brd.Items)["to_ItemCause"]);

        // The long, non-ASCII title is cut on a word boundary; the full title opens the long text; the 30 evidence
        // lines overflow the long text, which ends saying so. Both fits are counted, neither is a refusal.
        var text = brd.Field("NotificationText")!;
        Assert.EndsWith("\u2026", text, StringComparison.Ordinal);
        Assert.StartsWith("PdM: BRD Gleitringdichtung", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" \u2026", text, StringComparison.Ordinal);
        var longText = brd.Field("MaintNotifLongTextForEdit")!;
        Assert.StartsWith("PdM: BRD Gleitringdichtung antriebsseitig der Kühlwasserpumpe Förderstrecke Süd – Lager ⚙ 🔧 (Ø 120 mm)\n", longText, StringComparison.Ordinal);
        Assert.EndsWith($"the full text is in PdM, reference {brd.Field("MaintNotifExtReferenceNumber")})", longText, StringComparison.Ordinal);
        Assert.True(metrics.Total("pdm.maintenance.cmms_fields_fitted", "field", "NotificationText") >= 2);
        Assert.True(metrics.Total("pdm.maintenance.cmms_fields_fitted", "field", "MaintNotifLongTextForEdit") >= 1);
    }

    [Theory]
    [InlineData("mx-contract-sr", false)]
    [InlineData("mx-contract-wo", true)]
    public async Task Maximo_accepts_every_service_request_and_work_order_shape_on_the_first_attempt_under_429(string site, bool workOrders)
    {
        var tenant = fixture.Stubs.Maximo.Tenant(site);
        using var metrics = new MetricRecorder(MaintenanceTelemetry.MeterName);
        tenant.Faults.Enqueue(StubFaultKind.TooManyRequests, retryAfter: TimeSpan.FromMilliseconds(200));

        foreach (var prediction in Shapes(site))
        {
            await fixture.Publish(prediction);
        }

        var cases = await Delivered(site, 5);
        var escalating = cases.Single(c => c.AssetId == "PUMP-103");
        await fixture.Publish(MaintenanceFixture.Prediction(site, asset: "PUMP-103", health: HealthState.Danger, rulHours: 20));
        await Eventually.Until(() => fixture.Case(escalating.Id), c => c.Priority == WorkOrderPriority.Urgent && c.WorkOrder!.Cmms!.Delivery == "Delivered"
            && tenant.Records.Values.Single(r => r.Id == c.WorkOrder.Cmms.RecordId).UpdateCount == 1, "the escalation to reach Maximo");

        Assert.Equal(0, tenant.Rejected);
        Assert.Equal(5, tenant.Records.Count);
        foreach (var @case in cases)
        {
            var record = tenant.Records.Values.Single(r => r.Id == @case.WorkOrder!.Cmms!.RecordId);
            var asWorkOrder = workOrders && @case.WorkOrder!.Kind == "workOrder";
            Assert.Equal(asWorkOrder ? MaximoStub.WorkOrderStructure : MaximoStub.ServiceRequestStructure, record.ObjectStructure);
            Assert.Equal(@case.WorkOrder!.Cmms!.Reference, record.Field(asWorkOrder ? "externalrefid" : "externalrecid"));
            Assert.Matches("^[0-9A-Z]{10}$", @case.WorkOrder.Cmms.Reference!);
            Assert.InRange(record.Field("description")!.Length, 1, MaximoAdapter.DescriptionLength);
            Assert.StartsWith(WorkOrderTitle(@case), record.Field("description_longdescription"), StringComparison.Ordinal);
        }

        var longOne = tenant.Records.Values.Single(r => r.Id == cases.Single(c => c.FailureMode == "BRD").WorkOrder!.Cmms!.RecordId);
        Assert.EndsWith("\u2026", longOne.Field("description"), StringComparison.Ordinal);
        Assert.Contains("Gleitlager prüfen; Ölstand messen – Ausrichtung ≤ 0,05 mm", longOne.Field("description_longdescription"), StringComparison.Ordinal);
        Assert.True(metrics.Total("pdm.maintenance.cmms_fields_fitted", "field", "description") >= 1);
    }

    /// <summary>The long text opens with the full title: for every shape here that is "PdM: {mode} {item}".</summary>
    private static string WorkOrderTitle(CaseResponse @case) =>
        $"PdM: {@case.FailureMode} {(@case.AssetId == LongAsset ? "Gleitringdichtung antriebsseitig der Kühlwasserpumpe Förderstrecke Süd – Lager ⚙ 🔧 (Ø 120 mm)" : "Bearing DE")}";

    private static int Order(CaseResponse c) => c.AssetId switch
    {
        MaintenanceFixture.GoodAsset => 0,
        "PUMP-103" => 1,
        "PUMP-102" => 2,
        _ => c.FailureMode == "OHE" ? 3 : 4,
    };

    private async Task<List<CaseResponse>> Delivered(string site, int count)
    {
        var all = await Eventually.Until(async () =>
            {
                var list = new List<CaseResponse>();
                foreach (var asset in new[] { MaintenanceFixture.GoodAsset, "PUMP-102", "PUMP-103", LongAsset })
                {
                    list.AddRange(await fixture.Cases(site, asset));
                }

                return list;
            },
            list => list.Count == count && list.All(c => c.WorkOrder?.Cmms?.Delivery == "Delivered"), $"{count} work orders of {site} delivered", seconds: 60);
        return all;
    }

    private static FailurePredicted WithEvidence(FailurePredicted prediction, int lines) => prediction with
    {
        Evidence = Enumerable.Range(1, lines).Select(i => new Evidence
        {
            Signal = $"Lagertemperatur Messstelle {i} (antriebsseitig, Gehäuse oben)",
            Value = 60 + i,
            Unit = "°C",
            Limit = 85,
            WindowStart = DateTimeOffset.Parse("2026-11-20T00:00:00Z", CultureInfo.InvariantCulture),
            WindowEnd = DateTimeOffset.Parse("2026-11-23T00:00:00Z", CultureInfo.InvariantCulture),
            Source = $"spBv1.0/Werk-Süd/DDATA/edge-7/kühlwasserpumpe-0042/temperatur-{i}",
        }).ToList(),
    };
}
