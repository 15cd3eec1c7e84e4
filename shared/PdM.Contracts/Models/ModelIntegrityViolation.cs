namespace PdM.Contracts.Models;

/// <summary>
/// A gateway refused to load a model package from its own store because the bytes are not what the registry approved
/// (changed on disk after the download, a signature that does not verify with the trusted keys, or no record of what
/// the registry named). The package never decided; the last version that passed the check did, or the rules.
/// </summary>
public sealed record ModelIntegrityViolation
{
    public required Guid EventId { get; init; }

    public required string GatewayId { get; init; }

    public required string SiteId { get; init; }

    public required string AssetClass { get; init; }

    /// <summary>The package file in the gateway's model store (its name says model and version).</summary>
    public required string PackageFile { get; init; }

    /// <summary>Production, Canary or Shadow: the role the package would have been loaded in.</summary>
    public required string Role { get; init; }

    /// <summary>What the registry named (from the record kept with the package); null when there is no readable record.</summary>
    public string? ExpectedDigest { get; init; }

    /// <summary>What the bytes on disk hash to; null when the manifest cannot be read.</summary>
    public string? ActualDigest { get; init; }

    /// <summary><c>digest_mismatch</c>, <c>bad_signature</c>, <c>unsigned</c> or <c>no_registry_record</c>.</summary>
    public required string Reason { get; init; }

    public required string Detail { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}
