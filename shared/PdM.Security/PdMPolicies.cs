using Microsoft.AspNetCore.Authorization;

namespace PdM.Security;

/// <summary>
/// The authorization policies of the PdM HTTP APIs: one per kind of access, each a set of roles (admin is always
/// added). Every endpoint names one of these or is explicitly anonymous; <see cref="EndpointPolicyGuard"/> refuses to
/// start a host where that is not so. Finer rules (stage per role, four eyes, a gateway's own site) stay in the
/// endpoints, which know the data they need.
/// </summary>
public static class PdMPolicies
{
    public const string ModelsRead = nameof(ModelsRead);
    public const string ModelsPush = nameof(ModelsPush);
    public const string ModelsPromote = nameof(ModelsPromote);
    public const string ArtifactsDownload = nameof(ArtifactsDownload);
    public const string TrainingWrite = nameof(TrainingWrite);
    public const string TrainingRead = nameof(TrainingRead);
    public const string MaintenanceRead = nameof(MaintenanceRead);
    public const string MaintenanceWrite = nameof(MaintenanceWrite);
    public const string LineageRead = nameof(LineageRead);
    public const string AuditRead = nameof(AuditRead);
    public const string GatewaysRead = nameof(GatewaysRead);

    /// <summary>Policy → the roles it admits (besides <see cref="PdMRoles.Admin"/>). Documented in docs/security.md.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Roles { get; } = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        [ModelsRead] = [PdMRoles.DataScientist, PdMRoles.Approver, PdMRoles.Planner],
        [ModelsPush] = [PdMRoles.DataScientist],
        [ModelsPromote] = [PdMRoles.DataScientist, PdMRoles.Approver],
        [ArtifactsDownload] = [PdMRoles.Gateway, PdMRoles.DataScientist, PdMRoles.Approver],
        [TrainingWrite] = [PdMRoles.DataScientist],
        [TrainingRead] = [PdMRoles.DataScientist, PdMRoles.Approver],
        [MaintenanceRead] = [PdMRoles.Planner, PdMRoles.Approver],
        [MaintenanceWrite] = [PdMRoles.Planner],
        [LineageRead] = [PdMRoles.DataScientist, PdMRoles.Approver, PdMRoles.Planner],
        [AuditRead] = [PdMRoles.Approver],
        [GatewaysRead] = [PdMRoles.Planner],
    };

    /// <summary>The roles that satisfy <paramref name="policy"/>, admin included.</summary>
    public static IReadOnlyList<string> RolesFor(string policy) =>
        Roles.TryGetValue(policy, out var roles) ? [.. roles, PdMRoles.Admin] : throw new ArgumentException($"unknown PdM policy '{policy}'", nameof(policy));

}
