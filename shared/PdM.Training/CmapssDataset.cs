using System.Globalization;
using PdM.Features;

namespace PdM.Training;

/// <summary>One C-MAPSS row: an engine (unit) at one operational cycle, 3 settings and 21 sensors.</summary>
public sealed record CmapssRow(int Unit, int Cycle, double[] Settings, double[] Sensors);

/// <summary>
/// A C-MAPSS file (train_FD00x / test_FD00x: space-separated, no header, two trailing spaces per row) as rows and as
/// PdM.Features readings: unit → asset <c>{prefix}-{unit}</c>, cycle → timestamp cycle × 1000 ms, sensors
/// <c>s1..s21</c> and settings <c>setting1..3</c>.
/// </summary>
public sealed class CmapssDataset
{
    public const int SensorCount = 21;
    public const int SettingCount = 3;
    public const long MillisecondsPerCycle = 1000;

    /// <summary>The sensors that change with degradation in FD001 (the others are constant or nearly so).</summary>
    public static readonly IReadOnlyList<string> InformativeSensors =
        ["s2", "s3", "s4", "s7", "s8", "s9", "s11", "s12", "s13", "s14", "s15", "s17", "s20", "s21"];

    private readonly Dictionary<int, int> _lastCycle;

    private CmapssDataset(string name, string sha256, IReadOnlyList<CmapssRow> rows, IReadOnlyList<string> problems)
    {
        Name = name;
        Sha256 = sha256;
        Rows = rows;
        Problems = problems;
        _lastCycle = [];
        foreach (var row in rows)
        {
            _lastCycle[row.Unit] = Math.Max(row.Cycle, _lastCycle.GetValueOrDefault(row.Unit));
        }

        var units = new List<int>(_lastCycle.Keys);
        units.Sort();
        Units = units;
    }

    public string Name { get; }

    /// <summary>sha256 of the file bytes, lower-case hex (the dataset digest of the provenance).</summary>
    public string Sha256 { get; }

    public IReadOnlyList<CmapssRow> Rows { get; }

    /// <summary>Rows that could not be parsed (line number and reason); they are skipped, not fatal.</summary>
    public IReadOnlyList<string> Problems { get; }

    public IReadOnlyList<int> Units { get; }

    public static string AssetId(int unit) => "engine-" + unit.ToString(CultureInfo.InvariantCulture);

    public static string SensorName(int index) => "s" + (index + 1).ToString(CultureInfo.InvariantCulture);

    /// <summary>The last observed cycle of a unit: its failure cycle in a training file.</summary>
    public int LastCycle(int unit) => _lastCycle[unit];

    public static CmapssDataset Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(Path.GetFileNameWithoutExtension(path), File.ReadAllBytes(path));
    }

    /// <summary>A file's content, e.g. an upload; <paramref name="name"/> is what <see cref="Load"/> takes from the file name (train_FD001).</summary>
    public static CmapssDataset Parse(string name, byte[] bytes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(bytes);
        var rows = new List<CmapssRow>();
        var problems = new List<string>();
        using var reader = new StreamReader(new MemoryStream(bytes));
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Trim().Length == 0)
            {
                continue;
            }

            if (TryParse(line, out var row, out var problem))
            {
                rows.Add(row);
            }
            else
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"line {lineNumber}: {problem}"));
            }
        }

        return new CmapssDataset(name, DatasetDigest.Sha256Hex(bytes), rows, problems);
    }

    private static bool TryParse(string line, out CmapssRow row, out string problem)
    {
        row = null!;
        var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 2 + SettingCount + SensorCount)
        {
            problem = string.Create(CultureInfo.InvariantCulture, $"{fields.Length} fields, expected 26");
            return false;
        }

        if (!int.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var unit) ||
            !int.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var cycle) || unit <= 0 || cycle <= 0)
        {
            problem = "unit and cycle must be positive integers";
            return false;
        }

        var values = new double[SettingCount + SensorCount];
        for (var i = 0; i < values.Length; i++)
        {
            if (!double.TryParse(fields[2 + i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
            {
                problem = "field " + (3 + i).ToString(CultureInfo.InvariantCulture) + " is not a finite number";
                return false;
            }
        }

        row = new CmapssRow(unit, cycle, values[..SettingCount], values[SettingCount..]);
        problem = string.Empty;
        return true;
    }

    /// <summary>
    /// The readings a plant gateway would send: every row's sensors (1-based names s1..s21) at cycle × 1000 ms,
    /// in file order. <paramref name="sensors"/> restricts which sensors are emitted (null = all 21).
    /// <paramref name="includeCycle"/> adds the operating-cycle counter as sensor <c>cycle</c>.
    /// </summary>
    public IEnumerable<FeatureReading> Readings(IReadOnlyCollection<string>? sensors = null, bool includeCycle = false)
    {
        var wanted = new bool[SensorCount];
        for (var i = 0; i < SensorCount; i++)
        {
            wanted[i] = sensors is null || sensors.Contains(SensorName(i));
        }

        foreach (var row in Rows)
        {
            var asset = AssetId(row.Unit);
            var ts = row.Cycle * MillisecondsPerCycle;
            if (includeCycle)
            {
                yield return new FeatureReading(asset, CycleSensor, ts, row.Cycle);
            }

            for (var i = 0; i < SensorCount; i++)
            {
                if (wanted[i])
                {
                    yield return new FeatureReading(asset, SensorName(i), ts, row.Sensors[i]);
                }
            }
        }
    }

    /// <summary>The sensor name of the operating-cycle counter (a real engine reports its cycle count).</summary>
    public const string CycleSensor = "cycle";

    /// <summary>The cycle a feature vector describes: the last tick of its window (end is last tick + 1 ms).</summary>
    public static int CycleOf(FeatureVectorSnapshot vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        return (int)((vector.WindowEndUnixMs - 1) / MillisecondsPerCycle);
    }

    public static int UnitOf(string assetId)
    {
        ArgumentNullException.ThrowIfNull(assetId);
        return int.Parse(assetId.AsSpan("engine-".Length), NumberStyles.Integer, CultureInfo.InvariantCulture);
    }
}
