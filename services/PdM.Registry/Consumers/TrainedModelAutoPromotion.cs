using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.Contracts.Registry;
using PdM.Registry.Api;
using PdM.Registry.Artifacts;
using PdM.Registry.Identity;
using PdM.Registry.Persistence;

namespace PdM.Registry.Consumers;

/// <summary>
/// The demo auto-approval (<see cref="AutoPromoteTrainedModelsOptions"/>): promotes a version registered from a
/// training run to the configured stage and sites through <see cref="Promotions"/>, the code a person's promotion runs
/// (roles, four eyes against the uploader, gates, signing, outbox events). Sites where the version already has a stage
/// are left alone, so a redelivered registration promotes only what a crash left undone.
/// </summary>
public sealed partial class TrainedModelAutoPromotion(
    IOptions<AutoPromoteTrainedModelsOptions> options,
    Promotions promotions,
    RegistryDbContext db,
    ArtifactAddresses addresses,
    ILogger<TrainedModelAutoPromotion> logger)
{
    public async Task<PromotionOutcome?> PromoteAsync(ModelVersionRecord version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        var settings = options.Value;
        if (!settings.Enabled || version.TrainingRunId is null)
        {
            return null;
        }

        var staged = await db.Deployments.AsNoTracking().Where(d => d.VersionId == version.Id).Select(d => d.SiteId).ToListAsync(cancellationToken);
        var sites = settings.SiteIds.Where(s => !staged.Contains(s, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        if (sites.Count == 0)
        {
            return null;
        }

        LogAutoPromoting(logger, version.ModelName, version.Version, version.TrainingRunId.Value, settings.Stage, sites, settings.Approver);
        var approver = new Caller(settings.Approver, new HashSet<string>(StringComparer.Ordinal) { RegistryRoles.Approver, RegistryRoles.DataScientist });
        var outcome = await promotions.PromoteAsync(version.ModelName, version.Version, new PromotionRequest { Stage = settings.Stage, SiteIds = sites }, approver, addresses.For, cancellationToken);
        if (!outcome.Promoted)
        {
            LogAutoPromotionRefused(logger, version.ModelName, version.Version, outcome.Reason!, outcome.Detail!);
        }

        return outcome;
    }

    [LoggerMessage(EventId = 3171, Level = LogLevel.Warning,
        Message = "DEMO AUTO-APPROVAL: {ModelName}@{ModelVersion} (training run {RunId}) promoted to {Stage} at {Sites} by '{Approver}' without a person's review (Registry:AutoPromoteTrainedModels; Development/Demo only)")]
    private static partial void LogAutoPromoting(ILogger logger, string modelName, string modelVersion, Guid runId, ModelStage stage, IReadOnlyList<string> sites, string approver);

    [LoggerMessage(EventId = 3172, Level = LogLevel.Warning, Message = "Demo auto-approval of {ModelName}@{ModelVersion} refused: {Reason}: {Detail}")]
    private static partial void LogAutoPromotionRefused(ILogger logger, string modelName, string modelVersion, string reason, string detail);
}
