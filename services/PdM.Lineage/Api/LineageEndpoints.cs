using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PdM.Lineage.Consumers;
using PdM.Lineage.Graph;

namespace PdM.Lineage.Api;

internal static class LineageEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/lineage").WithTags("Lineage");

        // Backward: the decision, model version, its uploader and approver, training run and dataset behind a work order.
        group.MapGet("/work-orders/{id:guid}", async (Guid id, LineageGraph graph, CancellationToken cancellationToken) =>
            await graph.TraceAsync(LineageGraphConsumer.WorkOrderId(id), backward: true, cancellationToken) is { } trace
                ? Results.Ok(trace)
                : Results.Problem($"no lineage for work order {id:D}", statusCode: StatusCodes.Status404NotFound));

        // Forward: where a model version was deployed, its decisions, work orders and outcomes.
        group.MapGet("/models/{name}/{version}", async (string name, string version, LineageGraph graph, CancellationToken cancellationToken) =>
            await graph.TraceAsync(LineageGraphConsumer.ModelId(name, version), backward: false, cancellationToken) is { } trace
                ? Results.Ok(trace)
                : Results.Problem($"no lineage for model {name}@{version}", statusCode: StatusCodes.Status404NotFound));
    }
}
