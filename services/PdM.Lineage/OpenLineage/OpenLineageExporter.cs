using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using PdM.Lineage.Persistence;

namespace PdM.Lineage.OpenLineage;

/// <summary>
/// The lineage graph as OpenLineage 2-0-2 run events, so a data platform (Marquez, DataHub, Purview…) can show where a
/// model and its work orders came from. Each process node is one COMPLETE run: a training run (snapshot in, model out),
/// a deployment (model in, site out) and the raising of a work order (decision in, work order out). The people who
/// uploaded, approved or promoted travel in a <c>pdm_people</c> run facet; every node's properties in a
/// <c>pdm_properties</c> dataset facet. Run ids are the node's GUID, or a name-based UUID when the node key is not one.
/// </summary>
public sealed class OpenLineageExporter(LineageDbContext db)
{
    public const string Producer = "https://github.com/pdm-platform/pdm/tree/main/services/PdM.Lineage";
    public const string SchemaUrl = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent";
    private const string FacetSchemaUrl = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/BaseFacet";

    /// <summary>Job namespace and name per process kind; other kinds are datasets.</summary>
    private static readonly Dictionary<string, string> Jobs = new(StringComparer.Ordinal)
    {
        ["training-run"] = "training",
        ["deployment"] = "model-deployment",
        ["work-order"] = "raise-work-order",
    };

    /// <summary>Run events for process nodes first seen after <paramref name="after"/>, oldest first, at most <paramref name="limit"/>.</summary>
    public async Task<IReadOnlyList<JsonObject>> ExportAsync(DateTimeOffset? after, int limit, CancellationToken cancellationToken)
    {
        var kinds = Jobs.Keys.ToList();
        var query = db.Nodes.AsNoTracking().Where(n => kinds.Contains(n.Kind));
        if (after is { } since)
        {
            query = query.Where(n => n.FirstSeenAt > since);
        }

        var runs = await query.OrderBy(n => n.FirstSeenAt).ThenBy(n => n.Id).Take(limit).ToListAsync(cancellationToken);
        if (runs.Count == 0)
        {
            return [];
        }

        var runIds = runs.Select(r => r.Id).ToList();
        var edges = await db.Edges.AsNoTracking().Where(e => runIds.Contains(e.FromId) || runIds.Contains(e.ToId)).ToListAsync(cancellationToken);
        var neighbourIds = edges.SelectMany(e => new[] { e.FromId, e.ToId }).Distinct(StringComparer.Ordinal).ToList();
        var neighbours = await db.Nodes.AsNoTracking().Where(n => neighbourIds.Contains(n.Id)).ToDictionaryAsync(n => n.Id, StringComparer.Ordinal, cancellationToken);

        var events = new List<JsonObject>(runs.Count);
        foreach (var run in runs)
        {
            var inputs = new JsonArray();

            // Raising a work order produces the work order itself (a record in the CMMS), then whatever closed it.
            var outputs = run.Kind == "work-order" ? new JsonArray(Dataset(run)) : [];
            var people = new JsonObject { ["_producer"] = Producer, ["_schemaURL"] = FacetSchemaUrl };
            foreach (var edge in edges)
            {
                if (edge.ToId == run.Id && neighbours.TryGetValue(edge.FromId, out var source))
                {
                    if (source.Kind == "person")
                    {
                        people[edge.Kind] = source.Label;
                    }
                    else
                    {
                        inputs.Add(Dataset(source));
                    }
                }
                else if (edge.FromId == run.Id && neighbours.TryGetValue(edge.ToId, out var target) && target.Kind != "person")
                {
                    outputs.Add(Dataset(target));
                }
            }

            // A deployment's people are on its model (uploaded/approved edges point at the model, not the deployment).
            var runFacets = new JsonObject
            {
                ["pdm_properties"] = Facet(run.PropertiesJson),
            };
            if (people.Count > 2)
            {
                runFacets["pdm_people"] = people;
            }

            events.Add(new JsonObject
            {
                ["eventType"] = "COMPLETE",
                ["eventTime"] = run.FirstSeenAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
                ["producer"] = Producer,
                ["schemaURL"] = SchemaUrl,
                ["run"] = new JsonObject { ["runId"] = RunId(run.Id).ToString("D"), ["facets"] = runFacets },
                ["job"] = new JsonObject { ["namespace"] = "pdm", ["name"] = Jobs[run.Kind], ["facets"] = new JsonObject() },
                ["inputs"] = inputs,
                ["outputs"] = outputs,
            });
        }

        return events;
    }

    /// <summary>The GUID in <c>kind:GUID</c>, else a name-based UUID (SHA-256 of the node id, version/variant bits set as v5 does).</summary>
    public static Guid RunId(string nodeId)
    {
        ArgumentNullException.ThrowIfNull(nodeId);
        var colon = nodeId.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0 && Guid.TryParse(nodeId.AsSpan(colon + 1), out var guid))
        {
            return guid;
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(nodeId), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }

    private static JsonObject Dataset(LineageNode node)
    {
        var colon = node.Id.IndexOf(':', StringComparison.Ordinal);
        return new JsonObject
        {
            ["namespace"] = "pdm." + node.Kind,
            ["name"] = colon >= 0 ? node.Id[(colon + 1)..] : node.Id,
            ["facets"] = new JsonObject { ["pdm_properties"] = Facet(node.PropertiesJson) },
        };
    }

    private static JsonObject Facet(string propertiesJson)
    {
        var facet = JsonNode.Parse(propertiesJson) as JsonObject ?? [];
        facet["_producer"] = Producer;
        facet["_schemaURL"] = FacetSchemaUrl;
        return facet;
    }
}

/// <summary>What the outcomes say of a model version's decisions: its live precision on closed work orders.</summary>
public sealed record ModelPerformance(int Decisions, int WorkOrders, int Outcomes, int FailuresConfirmed, int NoFaultFound, double? LivePrecision)
{
    public static ModelPerformance From(Graph.LineageTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var confirmed = 0;
        var noFault = 0;
        foreach (var node in trace.Nodes.Where(n => n.Kind == "outcome"))
        {
            var outcome = node.Properties.ValueKind == JsonValueKind.Object && node.Properties.TryGetProperty("outcome", out var o) ? o.GetString() : node.Label;
            if (outcome == "FailureConfirmed")
            {
                confirmed++;
            }
            else if (outcome == "NoFaultFound")
            {
                noFault++;
            }
        }

        return new ModelPerformance(
            trace.Nodes.Count(n => n.Kind == "decision"),
            trace.Nodes.Count(n => n.Kind == "work-order"),
            confirmed + noFault,
            confirmed,
            noFault,
            confirmed + noFault == 0 ? null : (double)confirmed / (confirmed + noFault));
    }
}
