using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Contracts.Registry;
using PdM.Lineage.OpenLineage;
using PdM.Testing;

namespace PdM.Lineage.Tests;

public sealed class OpenLineageExportTests(LineageFixture fixture) : IClassFixture<LineageFixture>
{
    [Fact]
    public async Task The_graph_exports_as_OpenLineage_run_events_from_dataset_to_model_to_site_and_work_order_with_the_people_and_live_precision()
    {
        var chain = new LifecycleChain("ol-rul", "1.2.0", "plant-ol", "edge-ol", "run-ol-1", "sha256:beef");
        await chain.PublishAsync(fixture.Bus, uploader: "alice", approver: "bob", asset: "PUMP-9");
        var (deploymentId, workOrderId, caseId) = (chain.DeploymentId, chain.WorkOrderId, chain.CaseId);

        // The module consumes the chain's messages concurrently: the outcome can create the work order's node (and
        // its second output) before WorkOrderRaised adds the case it came from, so wait for both.
        var events = await Eventually.Until(
            async () => JsonNode.Parse(await fixture.Api.GetStringAsync("/api/lineage/openlineage?limit=5000"))!.AsArray(),
            a => a.Any(e => Job(e) == "raise-work-order" && Outputs(e).Contains("pdm.work-order/" + workOrderId.ToString("D")) && Outputs(e).Count == 2
                    && Inputs(e).Contains("pdm.case/" + caseId.ToString("D")))
                && a.Any(d => Job(d) == "model-deployment" && d!["run"]!["runId"]!.GetValue<string>() == deploymentId.ToString("D")),
            TimeSpan.FromSeconds(30), "the OpenLineage export of the work order");

        foreach (var e in events)
        {
            // Required by the OpenLineage 2-0-2 RunEvent schema.
            Assert.Equal("COMPLETE", e!["eventType"]!.GetValue<string>());
            Assert.True(DateTimeOffset.TryParse(e["eventTime"]!.GetValue<string>(), out _));
            Assert.True(Guid.TryParse(e["run"]!["runId"]!.GetValue<string>(), out _));
            Assert.Equal(OpenLineageExporter.SchemaUrl, e["schemaURL"]!.GetValue<string>());
            Assert.StartsWith("https://", e["producer"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal("pdm", e["job"]!["namespace"]!.GetValue<string>());
        }

        var training = TrainingOfOlRul(events);
        Assert.Contains("pdm.dataset/sha256:beef", Inputs(training));
        Assert.Contains("pdm.model/ol-rul@1.2.0", Outputs(training));

        var deployment = events.Single(e => Job(e) == "model-deployment" && e!["run"]!["runId"]!.GetValue<string>() == deploymentId.ToString("D"));
        Assert.Contains("pdm.site/plant-ol", Outputs(deployment));

        var raised = events.Single(e => Job(e) == "raise-work-order" && Outputs(e).Contains("pdm.work-order/" + workOrderId.ToString("D")));
        Assert.Contains("pdm.case/" + caseId.ToString("D"), Inputs(raised));
        Assert.Contains(Outputs(raised), o => o.StartsWith("pdm.outcome/", StringComparison.Ordinal));

        // Same node, same run id, on every export: a data platform can merge repeated exports. A second export of the
        // stored graph carries the training run under the run id of the first, a UUID as the RunEvent schema requires.
        var again = JsonNode.Parse(await fixture.Api.GetStringAsync("/api/lineage/openlineage?limit=5000"))!.AsArray();
        var runId = training!["run"]!["runId"]!.GetValue<string>();
        Assert.Equal(runId, TrainingOfOlRul(again)!["run"]!["runId"]!.GetValue<string>());
        Assert.True(Guid.TryParse(runId, out _), runId + " is not a UUID");
        // The name-based UUID of "training-run:run-ol-1" (SHA-256, v5-style bits), worked out outside the exporter
        // (python: hashlib.sha256, uuid.UUID(bytes=h[:16]) after setting the version and variant bits). A change here
        // would give runs already exported a new id: consumers that stored the old one would see a different run.
        Assert.Equal("f43d04a7-8a4b-553e-b505-032830a168e2", runId);
        Assert.NotEqual(OpenLineageExporter.RunId("training-run:run-ol-1"), OpenLineageExporter.RunId("training-run:run-ol-2"));

        var ndjson = await fixture.Api.GetStringAsync("/api/lineage/openlineage?limit=5000&format=ndjson");
        var lines = ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(events.Count, lines.Length);
        Assert.All(lines, l => JsonNode.Parse(l));

        // The model forward: its one closed work order confirmed a failure, so its live precision is 1.
        var forward = await fixture.Api.GetFromJsonAsync<JsonObject>("/api/lineage/models/ol-rul/1.2.0");
        var performance = forward!["performance"]!;
        Assert.Equal(1, performance["workOrders"]!.GetValue<int>());
        Assert.Equal(1, performance["failuresConfirmed"]!.GetValue<int>());
        Assert.Equal(1.0, performance["livePrecision"]!.GetValue<double>());
    }

    [Fact]
    public async Task Paging_after_the_last_event_time_returns_only_later_runs()
    {
        var probe = await fixture.Api.GetAsync("/api/lineage/openlineage?limit=5000");
        Assert.True(probe.IsSuccessStatusCode, probe.StatusCode + ": " + await probe.Content.ReadAsStringAsync() + string.Join("\n", fixture.Logs.Lines.TakeLast(30)));
        var all = JsonNode.Parse(await probe.Content.ReadAsStringAsync())!.AsArray();
        if (all.Count == 0)
        {
            await fixture.Bus.Publish(new ModelPromoted
            {
                EventId = Guid.NewGuid(), DeploymentId = Guid.NewGuid(), ModelName = "ol-page", ModelVersion = "1.0.0", PackageDigest = new string('c', 64),
                SiteIds = ["plant-p"], FromStage = ModelStage.Candidate, ToStage = ModelStage.Shadow, PromotedBy = "carol", UploadedBy = "carol",
                OccurredAt = DateTimeOffset.UtcNow,
            });
            all = await Eventually.Until(async () => JsonNode.Parse(await fixture.Api.GetStringAsync("/api/lineage/openlineage?limit=5000"))!.AsArray(),
                a => a.Count > 0, TimeSpan.FromSeconds(30), "a first run event");
        }

        var last = all[^1]!["eventTime"]!.GetValue<string>();
        var after = JsonNode.Parse(await fixture.Api.GetStringAsync("/api/lineage/openlineage?after=" + Uri.EscapeDataString(last)))!.AsArray();
        Assert.Empty(after);
    }

    private static JsonNode? TrainingOfOlRul(JsonArray events) =>
        events.Single(e => Job(e) == "training" && Outputs(e).Contains("pdm.model/ol-rul@1.2.0"));

    private static string Job(JsonNode? e) => e!["job"]!["name"]!.GetValue<string>();

    private static List<string> Inputs(JsonNode? e) => Names(e!["inputs"]!);

    private static List<string> Outputs(JsonNode? e) => Names(e!["outputs"]!);

    private static List<string> Names(JsonNode list) =>
        [.. list.AsArray().Select(d => d!["namespace"]!.GetValue<string>() + "/" + d["name"]!.GetValue<string>())];
}
