using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using PdM.Contracts.Edge;
using PdM.Edge.Journal;

namespace PdM.Edge.Gateway.Egress;

/// <summary>What a message is, for the site's data-egress policy (<c>Gateway:Egress:Allow</c>).</summary>
public enum EgressClass
{
    /// <summary>Failure predictions (<c>FailurePredicted</c>).</summary>
    Decisions,

    /// <summary>Asset health assessments and assets going offline.</summary>
    Health,

    /// <summary>Closed feature windows for the cloud feature store (training).</summary>
    FeatureBatches,

    /// <summary>Samples of refused payloads. No uplink sends them yet; the class exists so a site can allow or forbid them before one does.</summary>
    DeadLetterExcerpts,

    /// <summary>Sensor readings as received. No uplink sends them; never allowed by default.</summary>
    RawReadings,

    /// <summary>Deployment results, rollbacks, integrity violations and shadow evaluations: how the registry knows what runs where.</summary>
    ModelOperations,

    /// <summary>The gateway's heartbeat (machine, journal, models, asset inventory, this policy).</summary>
    Heartbeat,
}

/// <summary>Section <c>Gateway:Egress</c>: what may leave the site, and in what form.</summary>
public sealed class EgressOptions
{
    public const string Section = "Gateway:Egress";

    /// <summary>Names this policy in the heartbeat and in lineage; change it whenever the policy changes.</summary>
    public string Version { get; set; } = "default";

    /// <summary>Classes that may leave (<see cref="EgressPolicy.Names"/>); unset means every class but raw readings.</summary>
    public List<string>? Allow { get; set; }

    /// <summary>JSON property names (any depth, case-insensitive) whose string values leave as a keyed hash, e.g. <c>assetId</c>.</summary>
    public List<string>? HashFields { get; set; }

    /// <summary>JSON property names whose string values leave emptied (the message keeps its shape), e.g. <c>detail</c>.</summary>
    public List<string>? DropFields { get; set; }

    /// <summary>
    /// The HMAC-SHA256 key of <see cref="HashFields"/> (at least 16 characters; a secret, so the cloud cannot reverse a
    /// hashed asset name by hashing candidate names). Required with HashFields.
    /// </summary>
    public string? HashKey { get; set; }

    /// <summary>Whether the site allows training in the cloud on its features; false keeps feature batches on site whatever <see cref="Allow"/> says.</summary>
    public bool AllowCloudTraining { get; set; } = true;
}

/// <summary>
/// The site's data-egress policy, applied by <see cref="Uplink.EventJournal"/> to every message before it is journaled
/// for the uplink: nothing reaches the journal, hence the bus, except through here. A forbidden class is counted and
/// never stored; fields named by the policy are hashed (HMAC-SHA256 with the site's key, <c>h:</c> + 32 hex) or emptied.
/// </summary>
public sealed partial class EgressPolicy
{
    private static readonly FrozenDictionary<string, EgressClass> ByName = new Dictionary<string, EgressClass>(StringComparer.Ordinal)
    {
        ["decisions"] = EgressClass.Decisions,
        ["health"] = EgressClass.Health,
        ["feature_batches"] = EgressClass.FeatureBatches,
        ["dead_letter_excerpts"] = EgressClass.DeadLetterExcerpts,
        ["raw_readings"] = EgressClass.RawReadings,
        ["model_operations"] = EgressClass.ModelOperations,
        ["heartbeat"] = EgressClass.Heartbeat,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private readonly bool[] _allowed = new bool[Enum.GetValues<EgressClass>().Length];
    private readonly FrozenSet<string> _hash;
    private readonly FrozenSet<string> _drop;
    private readonly byte[] _key;

    public EgressPolicy(IOptions<EgressOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        foreach (var name in o.Allow ?? [.. Names.Where(n => n != "raw_readings")])
        {
            _allowed[(int)ByName[name]] = true;
        }

        if (!o.AllowCloudTraining)
        {
            // Feature windows only feed cloud training: a site that forbids it keeps them.
            _allowed[(int)EgressClass.FeatureBatches] = false;
        }

        _hash = (o.HashFields ?? []).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        _drop = (o.DropFields ?? []).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        _key = Encoding.UTF8.GetBytes(o.HashKey ?? "");
        Status = new GatewayEgressPolicyStatus
        {
            Version = o.Version,
            AllowedClasses = [.. Names.Where(n => _allowed[(int)ByName[n]])],
            HashedFields = [.. _hash.Order(StringComparer.Ordinal)],
            DroppedFields = [.. _drop.Order(StringComparer.Ordinal)],
            CloudTrainingAllowed = o.AllowCloudTraining,
        };
    }

    /// <summary>Every class name, in the order of <see cref="EgressClass"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["decisions", "health", "feature_batches", "dead_letter_excerpts", "raw_readings", "model_operations", "heartbeat"];

    /// <summary>The policy as the heartbeat reports it.</summary>
    public GatewayEgressPolicyStatus Status { get; }

    public static string Tag(EgressClass egressClass) => Names[(int)egressClass];

    public bool Allows(EgressClass egressClass) => _allowed[(int)egressClass];

    /// <summary>The entry as it may leave: its payload with the policy's fields hashed or emptied (the same bytes when the policy names none).</summary>
    public JournalAppend Shape(JournalAppend append)
    {
        ArgumentNullException.ThrowIfNull(append);
        if (_hash.Count == 0 && _drop.Count == 0)
        {
            return append;
        }

        var node = JsonNode.Parse(append.Payload.Span);
        return Rewrite(node) ? append with { Payload = JsonSerializer.SerializeToUtf8Bytes(node) } : append;
    }

    /// <summary>The keyed hash a field's value leaves as: <c>h:</c> and the first 16 bytes of HMAC-SHA256 in lower-case hex.</summary>
    public string Hash(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(value), mac);
        return "h:" + Convert.ToHexStringLower(mac[..16]);
    }

    private bool Rewrite(JsonNode? node)
    {
        var changed = false;
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj.ToList())
                {
                    if (_drop.Contains(name))
                    {
                        changed |= Replace(obj, name, value, static (_, _) => "");
                    }
                    else if (_hash.Contains(name))
                    {
                        changed |= Replace(obj, name, value, static (policy, text) => policy.Hash(text));
                    }
                    else
                    {
                        changed |= Rewrite(value);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    changed |= Rewrite(item);
                }

                break;
        }

        return changed;
    }

    /// <summary>A string becomes <paramref name="map"/> of it; an array of strings, each element; other values stay as they are.</summary>
    private bool Replace(JsonObject obj, string name, JsonNode? value, Func<EgressPolicy, string, string> map)
    {
        switch (value)
        {
            case JsonValue v when v.TryGetValue<string>(out var text):
                obj[name] = map(this, text);
                return true;
            case JsonArray array:
                var changed = false;
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue item && item.TryGetValue<string>(out var element))
                    {
                        array[i] = map(this, element);
                        changed = true;
                    }
                }

                return changed;
            default:
                return false;
        }
    }

    /// <summary>Start-up validation of <c>Gateway:Egress</c> beyond the annotations.</summary>
    public static IReadOnlyList<string> Validate(EgressOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (options.Version is null || !VersionPattern().IsMatch(options.Version))
        {
            problems.Add($"Version '{options.Version}' must be 1-64 characters of letters, digits, '_', '.', ':', '-'");
        }

        foreach (var name in options.Allow ?? [])
        {
            if (!ByName.ContainsKey(name))
            {
                problems.Add($"Allow names '{name}': known classes are {string.Join(", ", Names)}");
            }
        }

        if ((options.HashFields?.Count ?? 0) > 0 && (options.HashKey?.Length ?? 0) < 16)
        {
            problems.Add("HashKey must be set (at least 16 characters, a secret) when HashFields names fields: an unkeyed hash of an asset name is reversed by hashing candidate names");
        }

        foreach (var field in (options.HashFields ?? []).Intersect(options.DropFields ?? [], StringComparer.OrdinalIgnoreCase))
        {
            problems.Add($"'{field}' is both hashed and dropped; name it once");
        }

        return problems;
    }

    [GeneratedRegex("^[A-Za-z0-9_.:-]{1,64}$")]
    private static partial Regex VersionPattern();
}
