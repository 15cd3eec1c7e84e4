using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PdM.Cmms.Stubs;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Api;
using PdM.Maintenance.Cmms;
using PdM.Testing;

namespace PdM.Maintenance.Tests;

/// <summary>The SAP PM adapter against the API_MAINTNOTIFICATION contract stub: CSRF, catalog codes, crash, 429, breaker, auth, feedback.</summary>
[Collection(MaintenanceSuite.Name)]
public sealed class SapAdapterTests(MaintenanceFixture fixture)
{
    [Fact]
    public async Task A_prediction_becomes_a_maintenance_notification_with_catalog_codes_behind_a_csrf_token()
    {
        var tenant = fixture.Stubs.Sap.Tenant("sap-create");
        await fixture.Publish(MaintenanceFixture.Prediction("sap-create", rulHours: 60));
        var @case = await fixture.DeliveredCase("sap-create");

        var notification = Assert.Single(tenant.Notifications.Values);
        Assert.Equal("M2", notification.Field("NotificationType"));
        Assert.Equal("10000123", notification.Field("TechnicalObject"));
        Assert.Equal("EAMS_EQUI", notification.Field("TechObjIsEquipOrFuncnlLoc"));
        Assert.Equal("2", notification.Field("MaintPriority"));
        Assert.Equal("1010", notification.Field("MaintenancePlanningPlant"));
        Assert.Equal("RES-0100", notification.Field("MainWorkCenter"));
        Assert.Equal("100", notification.Field("MaintenancePlannerGroup"));
        // API_MAINTNOTIFICATION publishes MaintNotifExtReferenceNumber as String(20), upper case: the reference derived
        // from our 40+-character key, stored with the work order.
        var reference = @case.WorkOrder!.Cmms!.Reference!;
        Assert.Equal(reference, notification.Field("MaintNotifExtReferenceNumber"));
        Assert.Equal(20, reference.Length);
        Assert.Equal(reference.ToUpperInvariant(), reference);
        Assert.Equal(CmmsReference.Derive(@case.WorkOrder.ExternalKey, 20), reference);
        // One known key and its reference, worked out outside the product (python: the first 100 bits of hashlib.sha256
        // in Crockford base32). A change in the derivation would orphan the notifications already in SAP: the adapter
        // would look them up under another reference, not find them, and create second ones.
        Assert.Equal("0099YDPZX1JQHHK20N3Z", CmmsReference.Derive("pdm:plant-a:PUMP-101:VIB:0123456789ab", 20));
        Assert.Equal(0, tenant.Rejected);
        Assert.InRange(notification.Field("NotificationText")!.Length, 1, 40);
        Assert.Matches("^/Date\\(\\d+\\)/$", notification.Field("RequiredEndDate")!);
        Assert.Matches("^PT\\d{2}H\\d{2}M\\d{2}S$", notification.Field("MalfunctionStartTime")!);
        Assert.Contains("DE velocity RMS 7.1 mm/s (limit 4.5)", notification.Field("MaintNotifLongTextForEdit"), StringComparison.Ordinal);
        Assert.StartsWith("PdM: VIB Bearing DE, RUL ~60 h\n", notification.Field("MaintNotifLongTextForEdit"), StringComparison.Ordinal);
        var item = notification.Items[0];
        Assert.Equal("PM1", StubJson(item["MaintNotifDamageCodeGroup"]));
        Assert.Equal("VIB", StubJson(item["MaintNotificationDamageCode"]));
        Assert.Equal("PUMP", StubJson(item["MaintNotifObjPrtCodeGroup"]));
        Assert.Equal("BRG", StubJson(item["MaintNotifObjPrtCode"]));
        Assert.Equal("WEAR", StubJson(item["to_ItemCause"]!["results"]![0]!["MaintNotificationCauseCode"]));
        Assert.Equal(notification.Number, @case.WorkOrder.Cmms!.RecordId);
        Assert.Contains($"MaintenanceNotification('{notification.Number}')", @case.WorkOrder.Cmms.Url, StringComparison.Ordinal);
        Assert.Equal(1, tenant.TokenFetches);
    }

    [Fact]
    public async Task An_expired_csrf_token_is_fetched_again_and_the_update_retried_once()
    {
        var tenant = fixture.Stubs.Sap.Tenant("sap-csrf");
        await fixture.Publish(MaintenanceFixture.Prediction("sap-csrf", rulHours: 300, health: HealthState.Watch));
        var first = await fixture.DeliveredCase("sap-csrf");
        Assert.Equal("3", Assert.Single(tenant.Notifications.Values).Field("MaintPriority"));

        tenant.ExpireTokens();
        await fixture.Publish(MaintenanceFixture.Prediction("sap-csrf", rulHours: 20, health: HealthState.Watch));
        var escalated = await Eventually.Until(() => fixture.Case(first.Id),
            c => c.Priority == WorkOrderPriority.Urgent && c.WorkOrder!.Cmms!.Delivery == "Delivered" && Assert.Single(tenant.Notifications.Values).UpdateCount == 1,
            "the escalation to reach SAP");

        var notification = Assert.Single(tenant.Notifications.Values);
        Assert.Equal("1", notification.Field("MaintPriority"));
        Assert.Equal(2, tenant.TokenFetches);
        Assert.Equal(1, escalated.EscalationCount);
    }

    [Fact]
    public async Task A_crash_between_send_and_acknowledgement_does_not_create_a_second_notification()
    {
        var tenant = fixture.Stubs.Sap.Tenant("sap-crash");
        tenant.Faults.Enqueue(StubFaultKind.DropAfterAccept);

        await fixture.Publish(MaintenanceFixture.Prediction("sap-crash"));
        var @case = await fixture.DeliveredCase("sap-crash");

        var notification = Assert.Single(tenant.Notifications.Values);
        Assert.Equal(notification.Number, @case.WorkOrder!.Cmms!.RecordId);
        Assert.Equal(1, notification.UpdateCount);
    }

    [Fact]
    public async Task Rate_limiting_is_honoured_and_the_notification_is_created_once_it_lifts()
    {
        var tenant = fixture.Stubs.Sap.Tenant("sap-429");
        tenant.Faults.Enqueue(StubFaultKind.TooManyRequests, count: 2, retryAfter: TimeSpan.FromSeconds(1));

        await fixture.Publish(MaintenanceFixture.Prediction("sap-429"));
        var @case = await fixture.DeliveredCase("sap-429");

        Assert.Single(tenant.Notifications.Values);
        Assert.True(fixture.Logs.Contains(@case.WorkOrder!.ExternalKey, "SAP is rate limiting (HTTP 429"));
    }

    [Fact]
    public async Task Server_errors_open_the_breaker_and_it_closes_again_when_SAP_recovers()
    {
        var tenant = fixture.Stubs.Sap.Tenant("sap-5xx");
        tenant.Faults.Enqueue(StubFaultKind.ServiceUnavailable, count: 3);

        await fixture.Publish(MaintenanceFixture.Prediction("sap-5xx"));
        await fixture.DeliveredCase("sap-5xx");

        Assert.Single(tenant.Notifications.Values);
        Assert.True(fixture.Logs.Contains("CMMS breaker for sap@sap-5xx opened after 3 failure(s)"));
        Assert.True(fixture.Logs.Contains("CMMS breaker for sap@sap-5xx closed"));
    }

    [Fact]
    public async Task Wrong_credentials_park_the_delivery_with_a_clear_error_and_do_not_storm_SAP()
    {
        var tenant = fixture.Stubs.Sap.Tenant("sap-auth");
        await fixture.Publish(MaintenanceFixture.Prediction("sap-auth", asset: "PUMP-101"));
        await fixture.Publish(MaintenanceFixture.Prediction("sap-auth", asset: "PUMP-102"));

        var cases = await Eventually.Until(
            async () => (await fixture.Api.GetFromJsonAsync<List<CaseResponse>>("/api/cases?siteId=sap-auth", MaintenanceFixture.Json))!,
            list => list.Count == 2 && list.Any(c => c.WorkOrder!.Cmms!.Delivery == "Failed"), "two cases, one parked");
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var failed = Assert.Single(cases, c => c.WorkOrder!.Cmms!.Delivery == "Failed");

        Assert.Equal(1, tenant.Requests);
        Assert.Empty(tenant.Notifications);
        Assert.Contains("SAP refused our credentials (HTTP 401", failed.WorkOrder!.Cmms!.DeliveryError, StringComparison.Ordinal);
        Assert.Contains("Logon failed", failed.WorkOrder.Cmms.DeliveryError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Completing_the_notification_with_no_fault_found_closes_the_case_with_that_outcome()
    {
        var tenant = fixture.Stubs.Sap.Tenant("sap-feedback");
        await fixture.Publish(MaintenanceFixture.Prediction("sap-feedback"));
        var open = await fixture.DeliveredCase("sap-feedback");

        tenant.Complete(open.WorkOrder!.Cmms!.RecordId!, damageCode: "NFF");
        var closed = await Eventually.Until(() => fixture.Case(open.Id), c => c.Status == "Closed", "the case to close");

        Assert.Equal(MaintenanceOutcome.NoFaultFound, closed.Outcome);
        Assert.Equal("NFF", closed.FailureCode);
        var label = await Eventually.Until(() => Task.FromResult(fixture.Events.Of<MaintenanceOutcomeRecorded>().FirstOrDefault(o => o.CaseId == open.Id)), o => o is not null, "MaintenanceOutcomeRecorded");
        Assert.Equal(MaintenanceOutcome.NoFaultFound, label!.Outcome);
        Assert.Equal("sap", label.Source);
    }

    private static string? StubJson(JsonNode? node) => node?.GetValue<string>();
}
