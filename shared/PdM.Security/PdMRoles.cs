namespace PdM.Security;

/// <summary>
/// The role names every PdM API checks, as they appear in a token's role claim (<c>Auth:RoleClaim</c>, default
/// <c>roles</c>). <see cref="Admin"/> satisfies every role.
/// </summary>
public static class PdMRoles
{
    /// <summary>Pushes models, trains, promotes to Shadow and Canary.</summary>
    public const string DataScientist = "data-scientist";

    /// <summary>Promotes to Production (never a version they uploaded), reads the audit log.</summary>
    public const string Approver = "approver";

    /// <summary>Reads cases and work orders, records outcomes.</summary>
    public const string Planner = "planner";

    /// <summary>An edge gateway: downloads the artifacts of model versions deployed at its own site (claim <c>site</c>).</summary>
    public const string Gateway = "gateway";

    public const string Admin = "admin";

    public static IReadOnlyList<string> All { get; } = [DataScientist, Approver, Planner, Gateway, Admin];
}
