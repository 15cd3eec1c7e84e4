using System.Globalization;
using MassTransit;
using PdM.Contracts.Edge;
using PdM.Contracts.Maintenance;
using PdM.Contracts.Registry;
using PdM.Lineage.Graph;

namespace PdM.Lineage.Consumers;

/// <summary>
/// Builds the lineage graph from the lifecycle events: dataset → training run → model version (uploaded by, promoted /
/// approved by) → deployment → site → the site's data-egress policy (from the gateways' heartbeats); model version →
/// decision → case → work order → outcome.
/// </summary>
public sealed class LineageGraphConsumer(LineageGraph graph) :
    IConsumer<ModelVersionRegistered>,
    IConsumer<ModelVersionRejected>,
    IConsumer<ModelPromoted>,
    IConsumer<ModelDeploymentSucceeded>,
    IConsumer<WorkOrderRaised>,
    IConsumer<MaintenanceOutcomeRecorded>,
    IConsumer<GatewayHeartbeat>
{
    public static string ModelId(string name, string version) => $"model:{name}@{version}";

    public static string WorkOrderId(Guid id) => "work-order:" + id.ToString("D");

    public Task Consume(ConsumeContext<ModelVersionRegistered> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        var model = Model(m.ModelName, m.ModelVersion, m.PackageDigest, ("assetClass", m.AssetClass), ("artifactSha256", m.ArtifactSha256), ("uploadedBy", m.UploadedBy));
        var person = Person(m.UploadedBy);
        List<GraphNode> nodes = [model, person];
        List<GraphEdge> edges = [new(person.Id, model.Id, "uploaded")];
        var runName = m.TrainingRunId?.ToString("D") ?? m.TrainingRun;
        GraphNode? run = string.IsNullOrWhiteSpace(runName) ? null : TrainingRun(runName, ("registered", $"{m.ModelName}@{m.ModelVersion}"));
        GraphNode? dataset = string.IsNullOrWhiteSpace(m.DatasetDigest) ? null : Dataset(m.DatasetDigest, m.DatasetSnapshotId);
        if (run is not null)
        {
            nodes.Add(run);
            edges.Add(new(run.Id, model.Id, "produced"));
        }

        if (dataset is not null)
        {
            nodes.Add(dataset);
            edges.Add(run is null ? new(dataset.Id, model.Id, "trained") : new(dataset.Id, run.Id, "trained"));
        }

        return graph.AddAsync(nodes, edges, context.CancellationToken);
    }

    /// <summary>A run whose package the registry refused still belongs in the lineage of its data, with the reason.</summary>
    public Task Consume(ConsumeContext<ModelVersionRejected> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        if (m.TrainingRunId is not { } runId)
        {
            return Task.CompletedTask;
        }

        var run = TrainingRun(runId.ToString("D"), ("rejected", $"{m.ModelName}@{m.ModelVersion}"), ("rejectionReason", m.Reason), ("rejectionDetail", m.Detail));
        List<GraphNode> nodes = [run];
        List<GraphEdge> edges = [];
        if (!string.IsNullOrWhiteSpace(m.DatasetDigest))
        {
            var dataset = Dataset(m.DatasetDigest, m.DatasetSnapshotId);
            nodes.Add(dataset);
            edges.Add(new(dataset.Id, run.Id, "trained"));
        }

        return graph.AddAsync(nodes, edges, context.CancellationToken);
    }

    public Task Consume(ConsumeContext<ModelPromoted> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        var model = Model(m.ModelName, m.ModelVersion, m.PackageDigest);
        var person = Person(m.PromotedBy);
        var kind = m.ToStage == ModelStage.Production ? "approved" : "promoted-" + m.ToStage.ToString().ToLowerInvariant();
        List<GraphNode> nodes = [model, person];
        List<GraphEdge> edges = [new(person.Id, model.Id, kind)];
        if (m.DeploymentId is { } id)
        {
            var deployment = Deployment(id, m.ModelName, m.ModelVersion, m.ToStage,
                ("stage", m.ToStage.ToString()), ("sites", string.Join(",", m.SiteIds)), ("requestedBy", m.PromotedBy),
                ("canaryShare", m.CanaryShare?.ToString(CultureInfo.InvariantCulture)));
            nodes.Add(deployment);
            edges.Add(new(model.Id, deployment.Id, "deployed-as"));
        }

        return graph.AddAsync(nodes, edges, context.CancellationToken);
    }

    public Task Consume(ConsumeContext<ModelDeploymentSucceeded> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        var deployment = Deployment(m.DeploymentId, m.ModelName, m.ModelVersion, m.Stage);
        var site = Site(m.SiteId, m.GatewayId);
        return graph.AddAsync([deployment, site], [new(deployment.Id, site.Id, "running-at")], context.CancellationToken);
    }

    /// <summary>
    /// The data-egress policy a site's gateway enforces, by version: what of that site's data could reach the cloud (and
    /// train there). One node per site and version, so a change of policy is a new node beside the old one.
    /// </summary>
    public Task Consume(ConsumeContext<GatewayHeartbeat> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        if (m.Egress is not { } egress)
        {
            return Task.CompletedTask;
        }

        var site = Site(m.SiteId, m.GatewayId);
        var policy = new GraphNode($"egress-policy:{m.SiteId}@{egress.Version}", "egress-policy", egress.Version,
            Props(("allowedClasses", string.Join(",", egress.AllowedClasses)), ("hashedFields", string.Join(",", egress.HashedFields)),
                ("droppedFields", string.Join(",", egress.DroppedFields)), ("cloudTrainingAllowed", egress.CloudTrainingAllowed ? "true" : "false"),
                ("reportedBy", m.GatewayId)));
        return graph.AddAsync([site, policy], [new(site.Id, policy.Id, "governed-by")], context.CancellationToken);
    }

    public Task Consume(ConsumeContext<WorkOrderRaised> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        var workOrder = new GraphNode(WorkOrderId(m.WorkOrderId), "work-order", m.ExternalKey,
            Props(("siteId", m.SiteId), ("assetId", m.AssetId), ("failureMode", m.FailureMode), ("priority", m.Priority.ToString()), ("kind", m.Kind), ("cmms", m.CmmsSystem)));
        var decision = new GraphNode("decision:" + m.SourcePredictionId.ToString("D"), "decision", $"{m.AssetId} {m.FailureMode}",
            Props(("path", m.Provenance.Path.ToString()), ("gatewayId", m.Provenance.GatewayId), ("ruleset", m.Provenance.RulesetName), ("rule", m.Provenance.RuleName),
                ("confidence", m.Confidence?.ToString(CultureInfo.InvariantCulture))));
        List<GraphNode> nodes = [workOrder, decision];
        List<GraphEdge> edges = [];
        if (m.CaseId is { } caseId)
        {
            var @case = new GraphNode("case:" + caseId.ToString("D"), "case", $"{m.SiteId}/{m.AssetId}/{m.FailureMode}", Props());
            nodes.Add(@case);
            edges.Add(new(decision.Id, @case.Id, "opened"));
            edges.Add(new(@case.Id, workOrder.Id, "raised"));
        }
        else
        {
            edges.Add(new(decision.Id, workOrder.Id, "raised"));
        }

        if (m.Provenance.ModelName is { Length: > 0 } name && m.Provenance.ModelVersion is { Length: > 0 } version)
        {
            var model = Model(name, version, m.Provenance.ModelDigest);
            nodes.Add(model);
            edges.Add(new(model.Id, decision.Id, "decided"));
        }

        return graph.AddAsync(nodes, edges, context.CancellationToken);
    }

    public Task Consume(ConsumeContext<MaintenanceOutcomeRecorded> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        var workOrder = new GraphNode(WorkOrderId(m.WorkOrderId), "work-order", m.WorkOrderId.ToString("D"), Props());
        var outcome = new GraphNode("outcome:" + m.OutcomeId.ToString("D"), "outcome", m.Outcome.ToString(),
            Props(("outcome", m.Outcome.ToString()), ("failureCode", m.FailureCode), ("source", m.Source), ("closedAt", m.ClosedAt.ToString("O", CultureInfo.InvariantCulture))));
        return graph.AddAsync([workOrder, outcome], [new(workOrder.Id, outcome.Id, "closed-with")], context.CancellationToken);
    }

    private static GraphNode Model(string name, string version, string? digest, params (string Key, string? Value)[] more) =>
        new(ModelId(name, version), "model", $"{name}@{version}", Props([("digest", digest), .. more]));

    private static GraphNode TrainingRun(string runId, params (string Key, string? Value)[] properties) =>
        new("training-run:" + runId, "training-run", runId, Props(properties));

    private static GraphNode Dataset(string digest, Guid? snapshotId) =>
        new("dataset:" + digest, "dataset", digest, Props(("snapshotId", snapshotId?.ToString("D"))));

    private static GraphNode Deployment(Guid id, string modelName, string modelVersion, ModelStage stage, params (string Key, string? Value)[] properties) =>
        new("deployment:" + id.ToString("D"), "deployment", $"{modelName}@{modelVersion} → {stage}", Props(properties));

    private static GraphNode Site(string siteId, string gatewayId) => new("site:" + siteId, "site", siteId, Props(("gateway", gatewayId)));

    private static GraphNode Person(string user) => new("person:" + user, "person", user, Props());

    private static Dictionary<string, string?> Props(params (string Key, string? Value)[] values)
    {
        var properties = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            properties[key] = value;
        }

        return properties;
    }
}
