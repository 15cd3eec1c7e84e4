using System.Net;
using System.Net.Http.Json;
using Npgsql;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Contracts.Registry;
using PdM.Lineage.Graph;
using PdM.Testing;

namespace PdM.Lineage.Tests;

/// <summary>Models the platform trained: dataset snapshot → training run → model version, and refused packages.</summary>
public sealed class TrainedModelLineageTests(LineageFixture fixture) : IClassFixture<LineageFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_work_order_of_a_trained_model_traces_back_through_the_training_run_to_the_dataset_snapshot()
    {
        var runId = Guid.NewGuid();
        var snapshotId = Guid.NewGuid();
        var workOrderId = Guid.NewGuid();
        var predictionId = Guid.NewGuid();
        var datasetDigest = "sha256:" + new string('9', 64);
        var digest = new string('7', 64);
        var now = DateTimeOffset.UtcNow;
        await fixture.Bus.Publish(new ModelVersionRegistered
        {
            EventId = Guid.NewGuid(), ModelName = "fd001-rul", ModelVersion = "2.0.0", AssetClass = "turbofan", PackageDigest = digest,
            ArtifactSha256 = new string('8', 64), ArtifactUrl = "http://registry/api/artifacts/y", UploadedBy = "training-run:" + runId.ToString("D"),
            TrainingRun = runId.ToString("D"), TrainingRunId = runId, DatasetSnapshotId = snapshotId, DatasetDigest = datasetDigest, OccurredAt = now,
        });
        await fixture.Bus.Publish(new WorkOrderRaised
        {
            WorkOrderId = workOrderId, SiteId = "plant-a", AssetId = "ENGINE-031", FailureMode = "DEG", Priority = WorkOrderPriority.Medium, ExternalKey = "PDM-901",
            SourcePredictionId = predictionId, OccurredAt = now,
            Provenance = new DecisionProvenance { Path = DecisionPath.Model, GatewayId = "edge-1", ModelName = "fd001-rul", ModelVersion = "2.0.0", ModelDigest = digest },
        });

        var trace = await Eventually.Until(async () =>
            {
                using var response = await fixture.Api.GetAsync($"/api/lineage/work-orders/{workOrderId}");
                return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<LineageTrace>() : null;
            },
            t => t is not null && t.Nodes.Any(n => n.Kind == "dataset"), Wait, "the backward trace to reach the dataset");

        var run = $"training-run:{runId:D}";
        var dataset = "dataset:" + datasetDigest;
        Assert.Contains(new LineageEdgeResponse(dataset, run, "trained"), trace!.Edges);
        Assert.Contains(new LineageEdgeResponse(run, "model:fd001-rul@2.0.0", "produced"), trace.Edges);
        Assert.Contains(new LineageEdgeResponse("model:fd001-rul@2.0.0", $"decision:{predictionId:D}", "decided"), trace.Edges);
        Assert.Equal(snapshotId.ToString("D"), trace.Nodes.Single(n => n.Id == dataset).Properties.GetProperty("snapshotId").GetString());
        Assert.Equal("fd001-rul@2.0.0", trace.Nodes.Single(n => n.Id == run).Properties.GetProperty("registered").GetString());
    }

    [Fact]
    public async Task A_refused_trained_package_is_audited_with_its_reason_and_its_run_stays_in_the_datasets_lineage()
    {
        var runId = Guid.NewGuid();
        var datasetDigest = "sha256:" + new string('6', 64);
        var rejected = new ModelVersionRejected
        {
            EventId = Guid.NewGuid(), ModelName = "fd001-bad", ModelVersion = "1.0.0", AssetClass = "turbofan", TrainingRunId = runId,
            DatasetSnapshotId = Guid.NewGuid(), DatasetDigest = datasetDigest, PackageDigest = new string('5', 64), RequestedBy = "frank",
            Reason = "golden_vector_mismatch", Detail = "golden vector 3: expected 41.5, got 12", OccurredAt = DateTimeOffset.UtcNow,
        };

        await fixture.Bus.Publish(rejected);

        var entry = Assert.Single(await Eventually.Until(() => fixture.Entries("model:fd001-bad@1.0.0"), e => e.Count > 0, Wait, "the rejection audited"));
        Assert.Equal(("frank", "model.version.rejected", rejected.PackageDigest), (entry.Actor, entry.Action, entry.AfterDigest));
        Assert.Contains("golden_vector_mismatch", entry.Detail, StringComparison.Ordinal);

        var (reason, edge) = await Eventually.Until(() => RunNodeAsync($"training-run:{runId:D}", "dataset:" + datasetDigest),
            r => r.Reason is not null && r.Edge, Wait, "the rejected run in the graph");
        Assert.Equal("golden_vector_mismatch", reason);
        Assert.True(edge);
    }

    private async Task<(string? Reason, bool Edge)> RunNodeAsync(string runNode, string datasetNode)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var node = new NpgsqlCommand("SELECT properties_json->>'rejectionReason' FROM lineage.nodes WHERE id = $1", connection) { Parameters = { new() { Value = runNode } } };
        var reason = await node.ExecuteScalarAsync() as string;
        await using var edge = new NpgsqlCommand("SELECT count(*) FROM lineage.edges WHERE from_id = $1 AND to_id = $2 AND kind = 'trained'", connection)
        {
            Parameters = { new() { Value = datasetNode }, new() { Value = runNode } },
        };
        return (reason, (long)(await edge.ExecuteScalarAsync())! == 1);
    }
}
