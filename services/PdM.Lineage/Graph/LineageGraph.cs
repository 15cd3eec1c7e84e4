using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PdM.Lineage.Persistence;
using PdM.Persistence;

namespace PdM.Lineage.Graph;

/// <summary>A node to add: properties are merged into what the graph already knows about it.</summary>
public sealed record GraphNode(string Id, string Kind, string Label, IReadOnlyDictionary<string, string?> Properties);

/// <summary>An edge in the direction data flows.</summary>
public sealed record GraphEdge(string From, string To, string Kind);

public sealed record LineageNodeResponse(string Id, string Kind, string Label, JsonElement Properties);

public sealed record LineageEdgeResponse(string From, string To, string Kind);

public sealed record LineageTrace(string Root, string Direction, IReadOnlyList<LineageNodeResponse> Nodes, IReadOnlyList<LineageEdgeResponse> Edges);

/// <summary>
/// The lineage graph in PostgreSQL: nodes and typed edges added idempotently (a redelivered event adds nothing new),
/// and traces backwards (a work order → the data, the model and the people behind it) or forwards (a model → where
/// it was deployed, its decisions, work orders and outcomes).
/// </summary>
public sealed class LineageGraph(LineageDbContext db, TimeProvider clock)
{
    private const int MaxDepth = 12;
    private const int MaxNodes = 2000;

    public async Task AddAsync(IReadOnlyList<GraphNode> nodes, IReadOnlyList<GraphEdge> edges, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(edges);
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        foreach (var node in nodes)
        {
            var properties = JsonSerializer.Serialize(node.Properties.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!), LineageJsonContext.Default.DictionaryStringString);
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"""
                INSERT INTO lineage.nodes (id, kind, label, properties_json, first_seen_at) VALUES ({ColumnText.Clip(node.Id, 300)}, {node.Kind}, {ColumnText.Clip(node.Label, 300)}, {properties}::jsonb, {now})
                ON CONFLICT (id) DO UPDATE SET properties_json = lineage.nodes.properties_json || excluded.properties_json
                """,
                cancellationToken);
        }

        foreach (var edge in edges)
        {
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"INSERT INTO lineage.edges (from_id, to_id, kind, created_at) VALUES ({ColumnText.Clip(edge.From, 300)}, {ColumnText.Clip(edge.To, 300)}, {edge.Kind}, {now}) ON CONFLICT DO NOTHING",
                cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Everything reachable from <paramref name="root"/> against (backward) or along (forward) the edges; null when the root is unknown.</summary>
    public async Task<LineageTrace?> TraceAsync(string root, bool backward, CancellationToken cancellationToken)
    {
        if (!await db.Nodes.AnyAsync(n => n.Id == root, cancellationToken))
        {
            return null;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal) { root };
        var edges = new List<LineageEdge>();
        var frontier = new List<string> { root };
        for (var depth = 0; depth < MaxDepth && frontier.Count > 0 && seen.Count < MaxNodes; depth++)
        {
            var hop = backward
                ? await db.Edges.AsNoTracking().Where(e => frontier.Contains(e.ToId)).ToListAsync(cancellationToken)
                : await db.Edges.AsNoTracking().Where(e => frontier.Contains(e.FromId)).ToListAsync(cancellationToken);
            edges.AddRange(hop);
            frontier = hop.Select(e => backward ? e.FromId : e.ToId).Where(seen.Add).ToList();
        }

        var ids = seen.ToList();
        var nodes = await db.Nodes.AsNoTracking().Where(n => ids.Contains(n.Id)).OrderBy(n => n.Kind).ThenBy(n => n.Id).ToListAsync(cancellationToken);
        return new LineageTrace(
            root,
            backward ? "backward" : "forward",
            nodes.Select(n => new LineageNodeResponse(n.Id, n.Kind, n.Label, JsonDocument.Parse(n.PropertiesJson).RootElement.Clone())).ToList(),
            edges.Select(e => new LineageEdgeResponse(e.FromId, e.ToId, e.Kind)).Distinct().ToList());
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class LineageJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
