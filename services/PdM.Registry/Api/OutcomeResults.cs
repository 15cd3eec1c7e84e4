using Microsoft.AspNetCore.Http;
using PdM.Registry.Application;

namespace PdM.Registry.Api;

/// <summary>The HTTP answers to the application's outcomes: status codes, bodies and problem titles clients and the CLI rely on.</summary>
internal static class OutcomeResults
{
    public static IResult ToResult(this RegistrationOutcome outcome, string? cardUrl = null) => outcome.Registered
        ? Results.Created($"/api/models/{outcome.Version!.ModelName}/versions/{outcome.Version.Version}", ModelVersionResponse.From(outcome.Version, [], outcome.ArtifactUrl!) with { CardUrl = cardUrl })
        : RegistryProblems.Problem(StatusOf(outcome.Kind), outcome.Reason!, outcome.Kind == OutcomeKind.Conflict ? "Model version conflict" : "Model package rejected: " + outcome.Reason, outcome.Detail!);

    public static IResult ToResult(this PromotionOutcome outcome) => outcome.Promoted
        ? Results.Ok(ModelVersionResponse.From(outcome.Version!, outcome.Sites, outcome.ArtifactUrl!) with
        {
            Compatibility = outcome.Compatibility is { } c ? CompatibilityResponse.From(c) : null,
        })
        : RegistryProblems.Problem(StatusOf(outcome.Kind), outcome.Reason!, outcome.Kind switch
        {
            OutcomeKind.Forbidden => "Not allowed",
            OutcomeKind.NotFound => "No such model version",
            OutcomeKind.Conflict => "Promotion gate not passed",
            _ => "Bad request",
        }, outcome.Detail!, outcome.Compatibility is { } refused ? new Dictionary<string, object?>
        {
            // Per asset, what is missing: the detail names the first ones, this the lot.
            ["compatibility"] = CompatibilityResponse.From(refused),
        } : null);

    private static int StatusOf(OutcomeKind kind) => kind switch
    {
        OutcomeKind.Invalid => StatusCodes.Status400BadRequest,
        OutcomeKind.Forbidden => StatusCodes.Status403Forbidden,
        OutcomeKind.NotFound => StatusCodes.Status404NotFound,
        OutcomeKind.Conflict => StatusCodes.Status409Conflict,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a refusal"),
    };
}
