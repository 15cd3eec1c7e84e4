using PdM.Security;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// <c>GET /api/edge/decisions/latest</c>: every asset's latest decision with its path and the model (name, version,
/// digest) or ruleset that made it, and <c>GET /api/edge/decisions/latest/{assetId}</c> for one asset. Read-only,
/// policy <see cref="PdMPolicies.ModelsRead"/>: decisions name the deployed models.
/// </summary>
public static class DecisionEndpoints
{
    public const string Route = "/api/edge/decisions/latest";

    public static IEndpointRouteBuilder MapEdgeDecisionEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet(Route, (DecisionBoard board) => Results.Ok(board.Latest()))
            .RequireAuthorization(PdMPolicies.ModelsRead);
        endpoints.MapGet(Route + "/{assetId}", (string assetId, DecisionBoard board) =>
                board.TryGet(assetId, out var view) ? Results.Ok(view) : Results.NotFound())
            .RequireAuthorization(PdMPolicies.ModelsRead);
        return endpoints;
    }
}
