namespace PdM.Contracts.Registry;

/// <summary>Where a model version stands at one site. Candidate is the registry-only state after upload.</summary>
public enum ModelStage
{
    Candidate = 0,

    /// <summary>Scored beside production on the gateway, never driving decisions.</summary>
    Shadow = 1,

    /// <summary>Drives decisions for a share of the site's assets.</summary>
    Canary = 2,

    Production = 3,

    Archived = 4,
}
