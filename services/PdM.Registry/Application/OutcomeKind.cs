namespace PdM.Registry.Application;

/// <summary>
/// How a registry operation ended, for whichever edge called it: the HTTP API maps it to a status code and problem
/// title, a consumer records the refusal.
/// </summary>
public enum OutcomeKind
{
    /// <summary>Done: the version is registered or promoted.</summary>
    Done,

    /// <summary>The input is refused as it stands (bad name, bad package, bad stage or sites).</summary>
    Invalid,

    /// <summary>The caller may not do this (role, four eyes).</summary>
    Forbidden,

    /// <summary>No such model version.</summary>
    NotFound,

    /// <summary>The input is well formed but collides with the registry's state (version exists, promotion gate).</summary>
    Conflict,
}
