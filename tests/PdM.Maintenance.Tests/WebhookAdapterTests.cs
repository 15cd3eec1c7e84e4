using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PdM.Cmms.Stubs;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Api;

namespace PdM.Maintenance.Tests;

[Collection(MaintenanceSuite.Name)]
public sealed class WebhookAdapterTests(MaintenanceFixture fixture)
{
    [Fact]
    public async Task The_canonical_work_order_is_posted_signed_and_an_outcome_can_be_reported_through_the_api()
    {
        var tenant = fixture.Stubs.Webhook.Tenant("hook");
        await fixture.Publish(MaintenanceFixture.Prediction("hook"));
        var @case = await fixture.DeliveredCase("hook");

        var delivery = Assert.Single(tenant.Deliveries);
        Assert.True(WebhookStub.Verify(MaintenanceFixture.WebhookSecret, delivery.Signature, delivery.Body, DateTimeOffset.UtcNow));
        Assert.False(WebhookStub.Verify("another-secret", delivery.Signature, delivery.Body, DateTimeOffset.UtcNow));
        Assert.Matches("^t=\\d+,v1=[0-9a-f]{64}$", delivery.Signature);
        var canonical = JsonSerializer.Deserialize(delivery.Body, MaintenanceJsonContext.Default.CanonicalWorkOrder)!;
        Assert.Equal(CanonicalWorkOrder.SchemaV1, canonical.Schema);
        Assert.Equal(@case.WorkOrder!.ExternalKey, canonical.ExternalKey);
        Assert.Equal(delivery.IdempotencyKey, canonical.ExternalKey);
        Assert.Equal("BEDFORD", canonical.Asset.CmmsRef.Maximo!.SiteId);
        Assert.Equal("10000123", canonical.Asset.CmmsRef.Sap!.TechnicalObject);
        Assert.Equal("incipient", canonical.Failure.Severity);
        Assert.Equal("2.4", canonical.Failure.Mechanism);
        Assert.Equal(124.0, canonical.Prognosis.RulHours!.P10!.Value, precision: 6);
        Assert.Equal("brg-rul", canonical.Prognosis.Model.Name);
        Assert.Equal("Replace", canonical.Recommendation.Activity);
        Assert.Contains("\"siteid\":\"BEDFORD\"", delivery.Body, StringComparison.Ordinal);
        Assert.Contains("\"schema\":\"pdm.workorder/v1\"", delivery.Body, StringComparison.Ordinal);

        var response = await fixture.Api.PostAsJsonAsync($"/api/cases/{@case.Id}/outcome",
            new OutcomeRequest(MaintenanceOutcome.FailureConfirmed, "BRG", null), MaintenanceFixture.Json);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var closed = await fixture.Case(@case.Id);
        Assert.Equal("Closed", closed.Status);
        Assert.Equal(MaintenanceOutcome.FailureConfirmed, closed.Outcome);

        var again = await fixture.Api.PostAsJsonAsync($"/api/cases/{@case.Id}/outcome",
            new OutcomeRequest(MaintenanceOutcome.NoFaultFound, null, null), MaintenanceFixture.Json);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task A_receiver_that_rejects_the_signature_parks_the_delivery()
    {
        var tenant = fixture.Stubs.Webhook.Tenant("hook-auth");
        await fixture.Publish(MaintenanceFixture.Prediction("hook-auth"));
        var failed = await fixture.DeliveredCase("hook-auth", delivery: "Failed");

        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(1, tenant.Requests);
        Assert.Empty(tenant.Deliveries);
        Assert.Contains("Webhook refused our credentials (HTTP 401", failed.WorkOrder!.Cmms!.DeliveryError, StringComparison.Ordinal);
    }
}
