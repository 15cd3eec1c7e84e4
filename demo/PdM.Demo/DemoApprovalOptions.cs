using System.ComponentModel.DataAnnotations;
using PdM.Contracts.Registry;

namespace PdM.Demo;

/// <summary>
/// Section <c>Demo:Approval</c>: the demo's stand-in for the second person of four eyes. When a version registered from
/// a training run is announced (<see cref="ModelVersionRegistered"/>), it promotes it through the registry's promotion
/// API with its own identity, exactly as an approver with <c>pdm model promote</c> would.
/// </summary>
public sealed class DemoApprovalOptions
{
    public const string Section = "Demo:Approval";

    public bool Enabled { get; set; } = true;

    [MinLength(1)]
    public List<string> SiteIds { get; set; } = [];

    /// <summary>
    /// The stage of a version while the sites have no Production model of its asset class. Once they have, a newly
    /// registered version is a challenger and goes to Shadow whatever this says (never Production, never with a waiver).
    /// </summary>
    [AllowedValues(ModelStage.Shadow, ModelStage.Production)]
    public ModelStage Stage { get; set; } = ModelStage.Production;

    /// <summary>The approver on record (and in the audit log); never the requester of the run, so four eyes still holds.</summary>
    [Required]
    [StringLength(128, MinimumLength = 1)]
    public string Approver { get; set; } = "demo-auto-approver";
}
