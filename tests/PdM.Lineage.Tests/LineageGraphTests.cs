using System.Net;
using System.Net.Http.Json;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Contracts.Registry;
using PdM.Lineage.Graph;
using PdM.Testing;

namespace PdM.Lineage.Tests;

public sealed class LineageGraphTests(LineageFixture fixture) : IClassFixture<LineageFixture>
{
    [Fact]
    public async Task A_work_order_traces_back_to_the_model_version_its_uploader_approver_run_and_data_and_the_model_forward_to_outcomes()
    {
        var chain = new LifecycleChain("brg-rul", "4.0.0", "plant-a", "edge-3", "run-42", "sha256:cafe");
        await chain.PublishAsync(fixture.Bus, uploader: "alice", approver: "bob", asset: "PUMP-101");
        var (digest, deploymentId, workOrderId, predictionId, caseId) = (chain.Digest, chain.DeploymentId, chain.WorkOrderId, chain.PredictionId, chain.CaseId);

        var back = await Eventually.Until(Trace($"/api/lineage/work-orders/{workOrderId}"),
            t => t is not null && t.Nodes.Any(n => n.Id == "dataset:sha256:cafe") && t.Nodes.Any(n => n.Id == "person:bob"), TimeSpan.FromSeconds(30), "the backward trace");
        Assert.Contains(new LineageEdgeResponse("person:alice", "model:brg-rul@4.0.0", "uploaded"), back!.Edges);
        Assert.Contains(new LineageEdgeResponse("person:bob", "model:brg-rul@4.0.0", "approved"), back.Edges);
        Assert.Contains(new LineageEdgeResponse("training-run:run-42", "model:brg-rul@4.0.0", "produced"), back.Edges);
        Assert.Contains(new LineageEdgeResponse("dataset:sha256:cafe", "training-run:run-42", "trained"), back.Edges);
        Assert.Contains(new LineageEdgeResponse("model:brg-rul@4.0.0", $"decision:{predictionId:D}", "decided"), back.Edges);
        Assert.Equal(digest, back.Nodes.Single(n => n.Kind == "model").Properties.GetProperty("digest").GetString());
        Assert.DoesNotContain(back.Nodes, n => n.Kind == "outcome");

        var forward = await Eventually.Until(Trace("/api/lineage/models/brg-rul/4.0.0"),
            t => t is not null && t.Nodes.Any(n => n.Kind == "outcome") && t.Nodes.Any(n => n.Kind == "site"), TimeSpan.FromSeconds(30), "the forward trace");
        Assert.Equal("FailureConfirmed", forward!.Nodes.Single(n => n.Kind == "outcome").Label);
        Assert.Contains(forward.Nodes, n => n.Id == "site:plant-a");
        Assert.Contains(forward.Nodes, n => n.Id == $"work-order:{workOrderId:D}");
        Assert.DoesNotContain(forward.Nodes, n => n.Kind == "person");

        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Api.GetAsync($"/api/lineage/work-orders/{Guid.NewGuid()}")).StatusCode);
    }

    private Func<Task<LineageTrace?>> Trace(string path) => async () =>
    {
        using var response = await fixture.Api.GetAsync(path);
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<LineageTrace>() : null;
    };
}
