namespace PdM.Lineage.Persistence;

/// <summary>A lineage node: <c>{kind}:{key}</c> — dataset, training-run, model, person, deployment, site, decision, case, work-order, outcome.</summary>
public sealed class LineageNode
{
    public required string Id { get; set; }

    public required string Kind { get; set; }

    public required string Label { get; set; }

    /// <summary>jsonb: merged as later events add to what an earlier one knew.</summary>
    public required string PropertiesJson { get; set; }

    public DateTimeOffset FirstSeenAt { get; set; }
}

/// <summary>A typed edge in the direction data flows: dataset → training-run → model → decision → work-order → outcome.</summary>
public sealed class LineageEdge
{
    public required string FromId { get; set; }

    public required string ToId { get; set; }

    public required string Kind { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
