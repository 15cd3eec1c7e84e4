using System.ComponentModel.DataAnnotations;

namespace PdM.Edge.Gateway.Sharding;

/// <summary>
/// Section <c>Gateway:Sharding</c>: several gateways split one site by asset. Each asset belongs to exactly one shard
/// (<see cref="AssetShards.ShardOf"/>), each shard is one persistent MQTT session (<c>{SessionPrefix}-shard-{i}</c>),
/// and gateway <see cref="Index"/> normally holds session <see cref="Index"/>. When a gateway dies, the next live
/// gateway in shard order resumes its session (the broker keeps what it had not acknowledged) until it comes back.
/// </summary>
public sealed class ShardingOptions : IValidatableObject
{
    /// <summary>Shards (= gateways) of the site; 1 turns sharding off.</summary>
    [Range(1, 64)]
    public int Count { get; set; } = 1;

    /// <summary>This gateway's own shard, 0 to <see cref="Count"/> − 1 (a StatefulSet pod's ordinal).</summary>
    [Range(0, 63)]
    public int Index { get; set; }

    /// <summary>The MQTT client id stem of the shards' sessions; defaults to <c>gw-{SiteId}</c>. Same on every gateway of the site.</summary>
    [RegularExpression("^[A-Za-z0-9_.-]{1,100}$", ErrorMessage = "SessionPrefix must be 1-100 letters, digits, '_', '.', '-'")]
    public string? SessionPrefix { get; set; }

    /// <summary>Resume a dead peer's shard session (off: a dead gateway's assets wait for it to come back).</summary>
    public bool TakeOver { get; set; } = true;

    /// <summary>
    /// A shard whose presence has never been seen (its gateway never started) is taken over after this long; one the
    /// broker reported offline (the gateway's Will) at once.
    /// </summary>
    [Range(1, 3600)]
    public int UnknownPeerGraceSeconds { get; set; } = 10;

    /// <summary>After its owner took a shard session back, the stand-in leaves it alone this long unless the owner is reported dead again.</summary>
    [Range(1, 3600)]
    public int HandBackHoldSeconds { get; set; } = 30;

    public bool Enabled => Count > 1;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Index >= Count)
        {
            yield return new ValidationResult($"Gateway:Sharding:Index is {Index}; it must be below Gateway:Sharding:Count ({Count})", [nameof(Index)]);
        }
    }
}
