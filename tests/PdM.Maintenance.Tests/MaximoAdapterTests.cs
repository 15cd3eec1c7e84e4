using System.Net.Http.Json;
using PdM.Cmms.Stubs;
using PdM.Maintenance.Api;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Testing;

namespace PdM.Maintenance.Tests;

/// <summary>The Maximo adapter against the Maximo contract stub over HTTP: create, crash recovery, 429, breaker, auth, feedback.</summary>
[Collection(MaintenanceSuite.Name)]
public sealed class MaximoAdapterTests(MaintenanceFixture fixture)
{
    [Fact]
    public async Task A_prediction_becomes_a_service_request_by_default_and_low_confidence_stays_a_request_where_work_orders_are_allowed()
    {
        await fixture.Publish(MaintenanceFixture.Prediction("mx-sr"));
        var @case = await fixture.DeliveredCase("mx-sr");

        var record = Assert.Single(fixture.Stubs.Maximo.Tenant("mx-sr").Records.Values);
        Assert.Equal(MaximoStub.ServiceRequestStructure, record.ObjectStructure);
        Assert.Equal("NEW", record.Field("status"));
        Assert.Equal("2", record.Field("reportedpriority"));
        // TICKET keeps an external key in externalrecid (it has no externalrefid), 10 characters in the published schema.
        Assert.Equal(@case.WorkOrder!.Cmms!.Reference, record.Field("externalrecid"));
        Assert.Equal(10, @case.WorkOrder.Cmms.Reference!.Length);
        Assert.Equal("request", @case.WorkOrder.Kind);
        Assert.Equal("maximo", @case.WorkOrder.Cmms!.System);
        Assert.Equal(record.Id, @case.WorkOrder.Cmms.RecordId);
        Assert.EndsWith("/t/mx-sr/maximo/" + record.Path, @case.WorkOrder.Cmms.Url, StringComparison.Ordinal);

        // Where work orders are allowed, a prediction below the site's confidence gate is still only a request.
        await fixture.Publish(MaintenanceFixture.Prediction("mx-wo", asset: "PUMP-103", confidence: 0.5));
        var gated = await fixture.DeliveredCase("mx-wo", "PUMP-103");
        Assert.Equal("request", gated.WorkOrder!.Kind);
        Assert.Contains(fixture.Stubs.Maximo.Tenant("mx-wo").Records.Values,
            r => r.ObjectStructure == MaximoStub.ServiceRequestStructure && r.Field("externalrecid") == gated.WorkOrder.Cmms!.Reference);
    }

    [Fact]
    public async Task A_crash_between_send_and_acknowledgement_does_not_create_a_second_record()
    {
        var tenant = fixture.Stubs.Maximo.Tenant("mx-crash");
        tenant.Faults.Enqueue(StubFaultKind.DropAfterAccept);

        await fixture.Publish(MaintenanceFixture.Prediction("mx-crash"));
        var @case = await fixture.DeliveredCase("mx-crash");

        var record = Assert.Single(tenant.Records.Values);
        Assert.Equal(record.Id, @case.WorkOrder!.Cmms!.RecordId);
        Assert.Equal(@case.WorkOrder.Cmms.Reference, record.Field("externalrecid"));
        Assert.Equal(0, tenant.Faults.Pending);

        // The retry found the record by its reference and updated it instead of creating another.
        Assert.Equal(1, record.UpdateCount);
    }

    /// <summary>
    /// Creates Maximo carries out after our client stopped waiting: too slow for the suite's request timeout (the stub
    /// holds the create 3 s past it), or given up by a proxy in front of it (a 504 page at once, the record 2 s later).
    /// A retry that looked the record up at once would find nothing and create a second one.
    /// </summary>
    public static TheoryData<string, StubFaultKind, double, double, string> CreatesCarriedOutLate => new()
    {
        { "mx-slow", StubFaultKind.SlowAccept, MaintenanceFixture.RequestTimeout.TotalSeconds + 3, 3, "Maximo did not answer" },
        { "mx-gateway", StubFaultKind.GatewayTimeoutThenAccept, 2, 2, "Maximo's gateway gave up on the create (HTTP 504" },
    };

    [Theory]
    [MemberData(nameof(CreatesCarriedOutLate))]
    public async Task A_create_Maximo_carries_out_after_the_client_stopped_waiting_is_found_by_the_retry_and_not_created_again(
        string site, StubFaultKind fault, double holdSeconds, double lateSeconds, string reason)
    {
        Assert.True(MaintenanceFixture.InDoubtWait > TimeSpan.FromSeconds(lateSeconds), "the suite's InDoubtWait must outlast the time the record comes late");
        var tenant = fixture.Stubs.Maximo.Tenant(site);
        tenant.Faults.Enqueue(fault, retryAfter: TimeSpan.FromSeconds(holdSeconds));

        await fixture.Publish(MaintenanceFixture.Prediction(site));
        // While it waits, the planner is told why it is not in Maximo yet, and that it will be looked up, not sent again blind.
        var waiting = await Eventually.Until(async () => (await fixture.Cases(site, MaintenanceFixture.GoodAsset)).SingleOrDefault(),
            c => c?.WorkOrder?.Cmms?.DeliveryError?.Contains("may still be carried out", StringComparison.Ordinal) == true,
            "the work order to say its create is in doubt", 30);
        Assert.Contains(reason, waiting!.WorkOrder!.Cmms!.DeliveryError, StringComparison.Ordinal);
        var @case = await fixture.DeliveredCase(site, seconds: 60);

        var record = Assert.Single(tenant.Records.Values);
        Assert.Equal(record.Id, @case.WorkOrder!.Cmms!.RecordId);
        Assert.Equal(@case.WorkOrder.Cmms.Reference, record.Field("externalrecid"));
        // The retry found the record by its reference and updated it.
        Assert.Equal(1, record.UpdateCount);
    }

    [Fact]
    public async Task Rate_limiting_is_honoured_and_the_record_is_created_once_it_lifts()
    {
        var tenant = fixture.Stubs.Maximo.Tenant("mx-429");
        tenant.Faults.Enqueue(StubFaultKind.TooManyRequests, count: 2, retryAfter: TimeSpan.FromSeconds(1));

        await fixture.Publish(MaintenanceFixture.Prediction("mx-429"));
        var @case = await fixture.DeliveredCase("mx-429");

        Assert.Single(tenant.Records.Values);
        Assert.Equal(0, tenant.Faults.Pending);
        Assert.True(fixture.Logs.Contains(@case.WorkOrder!.ExternalKey, "rate limiting", "HTTP 429"), "the 429 is logged with its reason");
        Assert.True(fixture.Logs.Contains(@case.WorkOrder.ExternalKey, "delivered to maximo (created)"));
    }

    [Fact]
    public async Task Server_errors_open_the_breaker_and_it_closes_again_when_Maximo_recovers()
    {
        var tenant = fixture.Stubs.Maximo.Tenant("mx-5xx");
        tenant.Faults.Enqueue(StubFaultKind.ServiceUnavailable, count: 3);

        await fixture.Publish(MaintenanceFixture.Prediction("mx-5xx"));
        var @case = await fixture.DeliveredCase("mx-5xx");

        Assert.Single(tenant.Records.Values);
        Assert.True(fixture.Logs.Contains("CMMS breaker for maximo@mx-5xx opened after 3 failure(s)", "BMXAA6713E"));
        Assert.True(fixture.Logs.Contains("CMMS breaker for maximo@mx-5xx half-open"));
        Assert.True(fixture.Logs.Contains("CMMS breaker for maximo@mx-5xx closed"));
        Assert.Equal("Delivered", @case.WorkOrder!.Cmms!.Delivery);
    }

    [Fact]
    public async Task A_wrong_api_key_parks_the_delivery_with_a_clear_error_and_does_not_storm_Maximo()
    {
        var tenant = fixture.Stubs.Maximo.Tenant("mx-auth");
        await fixture.Publish(MaintenanceFixture.Prediction("mx-auth", asset: "PUMP-101"));
        await fixture.Publish(MaintenanceFixture.Prediction("mx-auth", asset: "PUMP-102"));
        await fixture.Publish(MaintenanceFixture.Prediction("mx-auth", asset: "PUMP-103"));

        // Whichever work order goes first meets the 401; it opens the breaker, and the others wait behind it.
        var cases = await Eventually.Until(
            async () => (await fixture.Api.GetFromJsonAsync<List<CaseResponse>>("/api/cases?siteId=mx-auth", MaintenanceFixture.Json))!,
            list => list.Count == 3 && list.Any(c => c.WorkOrder!.Cmms!.Delivery == "Failed"), "three cases, one parked");

        // Give a retry storm every chance to show itself.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal(1, tenant.Requests);
        Assert.Empty(tenant.Records);
        var failed = Assert.Single(cases, c => c.WorkOrder!.Cmms!.Delivery == "Failed");
        var waiting = await Eventually.Until(
            async () => (await fixture.Api.GetFromJsonAsync<List<CaseResponse>>("/api/cases?siteId=mx-auth", MaintenanceFixture.Json))!.Where(c => c.Id != failed.Id).ToList(),
            list => list.All(c => c.WorkOrder!.Cmms!.DeliveryError is not null), "the held-back work orders to say why");
        Assert.All(waiting, c => Assert.Equal("Pending", c.WorkOrder!.Cmms!.Delivery));
        Assert.All(waiting, c => Assert.Contains("maximo@mx-auth circuit breaker is open", c.WorkOrder!.Cmms!.DeliveryError, StringComparison.Ordinal));
        var error = failed.WorkOrder!.Cmms!.DeliveryError!;
        Assert.Contains("HTTP 401", error, StringComparison.Ordinal);
        Assert.Contains("BMXAA7901E", error, StringComparison.Ordinal);
        Assert.Contains("Maintenance:Sites:mx-auth:Cmms:Maximo:ApiKey", error, StringComparison.Ordinal);
        Assert.True(fixture.Logs.Contains("parked, not retried", "BMXAA7901E"));
    }

    [Fact]
    public async Task Closing_the_record_in_Maximo_records_the_outcome_closes_the_case_and_starts_the_cooldown()
    {
        var tenant = fixture.Stubs.Maximo.Tenant("mx-feedback");
        var prediction = MaintenanceFixture.Prediction("mx-feedback");
        await fixture.Publish(prediction);
        var open = await fixture.DeliveredCase("mx-feedback");

        tenant.Close(open.WorkOrder!.Cmms!.RecordId!, problemCode: "BRG");
        var closed = await Eventually.Until(() => fixture.Case(open.Id), c => c.Status == "Closed", "the case to close");
        Assert.Equal(MaintenanceOutcome.FailureConfirmed, closed.Outcome);
        Assert.Equal("BRG", closed.FailureCode);
        Assert.NotNull(closed.CooldownUntil);
        Assert.Equal("Closed", closed.WorkOrder!.Status);

        var label = await Eventually.Until(() => Task.FromResult(fixture.Events.Of<MaintenanceOutcomeRecorded>().FirstOrDefault(o => o.CaseId == open.Id)), o => o is not null, "MaintenanceOutcomeRecorded");
        Assert.Equal(MaintenanceOutcome.FailureConfirmed, label!.Outcome);
        Assert.Equal("BRG", label.FailureCode);
        Assert.Equal("maximo", label.Source);
        Assert.Contains(prediction.PredictionId, label.SourcePredictionIds);
        Assert.Equal("brg-rul", label.Provenance.ModelName);

        // The same condition during the cooldown is folded into the closed case: no new case, no new record.
        await fixture.Publish(MaintenanceFixture.Prediction("mx-feedback", health: HealthState.Danger));
        var suppressed = await Eventually.Until(() => fixture.Case(open.Id), c => c.SuppressedCount == 1, "the prediction to be suppressed");
        Assert.Equal("Closed", suppressed.Status);
        Assert.Single(await fixture.Cases("mx-feedback"));
        Assert.Single(tenant.Records.Values);
    }

    [Fact]
    public async Task After_the_cooldown_the_same_condition_opens_a_new_case_and_a_new_record()
    {
        var tenant = fixture.Stubs.Maximo.Tenant("mx-cool");
        await fixture.Publish(MaintenanceFixture.Prediction("mx-cool"));
        var first = await fixture.DeliveredCase("mx-cool");
        tenant.Close(first.WorkOrder!.Cmms!.RecordId!, problemCode: "NFF");
        var closed = await Eventually.Until(() => fixture.Case(first.Id), c => c.Status == "Closed", "the first case to close");
        Assert.Equal(MaintenanceOutcome.NoFaultFound, closed.Outcome);

        // The site's cooldown is one second: wait it out, then the condition is a new problem.
        var wait = closed.CooldownUntil!.Value - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(200);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        await fixture.Publish(MaintenanceFixture.Prediction("mx-cool"));
        var cases = await Eventually.Until(() => fixture.Cases("mx-cool"), l => l.Count == 2 && l.All(c => c.WorkOrder!.Cmms!.Delivery == "Delivered"), "a second case");

        var second = Assert.Single(cases, c => c.Id != first.Id);
        Assert.Equal("Open", second.Status);
        Assert.NotEqual(first.WorkOrder.ExternalKey, second.WorkOrder!.ExternalKey);
        Assert.Equal(2, tenant.Records.Count);
    }
}
