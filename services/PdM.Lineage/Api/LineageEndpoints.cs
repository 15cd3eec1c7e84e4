using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PdM.Lineage.Consumers;
using PdM.Lineage.Graph;
using PdM.Lineage.OpenLineage;
using PdM.Security;
using System.Text.Json.Nodes;

namespace PdM.Lineage.Api;

internal static class LineageEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/lineage").WithTags("Lineage").RequireAuthorization(PdMPolicies.LineageRead);

        // Backward: the decision, model version, its uploader and approver, training run and dataset behind a work order.
        group.MapGet("/work-orders/{id:guid}", async (Guid id, LineageGraph graph, CancellationToken cancellationToken) =>
            await graph.TraceAsync(LineageGraphConsumer.WorkOrderId(id), backward: true, cancellationToken) is { } trace
                ? Results.Ok(trace)
                : Results.Problem($"no lineage for work order {id:D}", statusCode: StatusCodes.Status404NotFound));

        // Forward: where a model version was deployed, its decisions, work orders and outcomes.
        group.MapGet("/models/{name}/{version}", async (string name, string version, LineageGraph graph, CancellationToken cancellationToken) =>
            await graph.TraceAsync(LineageGraphConsumer.ModelId(name, version), backward: false, cancellationToken) is { } trace
                ? Results.Ok(new ModelLineageResponse(trace.Root, trace.Direction, trace.Nodes, trace.Edges, ModelPerformance.From(trace)))
                : Results.Problem($"no lineage for model {name}@{version}", statusCode: StatusCodes.Status404NotFound));

        // OpenLineage 2-0-2 run events (training runs, deployments, work orders raised), oldest first; page with `after`
        // (the last event's eventTime). `format=ndjson` gives one event per line, as OpenLineage file transports expect.
        group.MapGet("/openlineage", async (DateTimeOffset? after, int? limit, string? format, OpenLineageExporter exporter, CancellationToken cancellationToken) =>
        {
            var take = Math.Clamp(limit ?? 500, 1, 5000);
            var events = await exporter.ExportAsync(after, take, cancellationToken);
            if (string.Equals(format, "ndjson", StringComparison.OrdinalIgnoreCase))
            {
                return Results.Text(string.Concat(events.Select(e => e.ToJsonString() + "\n")), "application/x-ndjson");
            }

            return Results.Text(new JsonArray([.. events]).ToJsonString(), "application/json");
        });
    }
}

/// <summary>The forward trace of a model version with what its outcomes say of it.</summary>
public sealed record ModelLineageResponse(string Root, string Direction, IReadOnlyList<LineageNodeResponse> Nodes, IReadOnlyList<LineageEdgeResponse> Edges, ModelPerformance Performance);
