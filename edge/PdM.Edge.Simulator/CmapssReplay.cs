using System.Globalization;
using PdM.Contracts.Telemetry;

namespace PdM.Edge.Simulator;

/// <summary>One engine's record in a C-MAPSS file: its cycles in order, each with the 21 sensor values.</summary>
public sealed record CmapssEngine(int Unit, string AssetId, IReadOnlyList<int> Cycles, IReadOnlyList<double[]> Sensors);

/// <summary>
/// Replays C-MAPSS engines as PdM JSON telemetry. Values are published exactly as the file states them (JSON numbers
/// round-trip doubles), and device time advances 1000 ms per cycle, the spacing the trainer uses, so the gateway's
/// features of a replayed engine equal the training features of the same engine (slopes are per second of device time).
/// </summary>
public sealed class CmapssReplay
{
    public const string CycleSensor = "cycle";
    public const long MillisecondsPerCycle = 1000;
    private const int SensorCount = 21;

    private readonly CmapssReplayOptions _options;
    private readonly int[] _sensorColumns;
    private readonly EngineCursor[] _cursors;

    public CmapssReplay(CmapssReplayOptions options, IReadOnlyList<CmapssEngine> engines)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(engines);
        _options = options;
        _sensorColumns = new int[options.EffectiveSensors.Count];
        for (var i = 0; i < _sensorColumns.Length; i++)
        {
            _sensorColumns[i] = SensorIndex(options.EffectiveSensors[i]);
        }

        Engines = engines;
        _cursors = new EngineCursor[engines.Count];
        for (var i = 0; i < _cursors.Length; i++)
        {
            _cursors[i] = new EngineCursor();
        }
    }

    public IReadOnlyList<CmapssEngine> Engines { get; }

    /// <summary>Reads the configured units from the file; an error names what is wrong (missing file, unknown unit, bad row).</summary>
    public static CmapssReplay Load(CmapssReplayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var path = ResolveFile(options.File)
            ?? throw new FileNotFoundException($"Simulator:Cmapss:File '{options.File}' not found under {AppContext.BaseDirectory} or any folder above it", options.File);
        foreach (var sensor in options.EffectiveSensors)
        {
            SensorIndex(sensor);
        }

        var wanted = new HashSet<int>(options.EffectiveUnits);
        var rows = new Dictionary<int, (List<int> Cycles, List<double[]> Sensors)>();
        var lineNumber = 0;
        foreach (var line in System.IO.File.ReadLines(path))
        {
            lineNumber++;
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0)
            {
                continue;
            }

            if (fields.Length != 5 + SensorCount)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path} line {lineNumber}: {fields.Length} fields, expected 26"));
            }

            var unit = int.Parse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture);
            if (!wanted.Contains(unit))
            {
                continue;
            }

            if (!rows.TryGetValue(unit, out var engine))
            {
                rows[unit] = engine = ([], []);
            }

            engine.Cycles.Add(int.Parse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture));
            var sensors = new double[SensorCount];
            for (var s = 0; s < SensorCount; s++)
            {
                sensors[s] = double.Parse(fields[5 + s], NumberStyles.Float, CultureInfo.InvariantCulture);
            }

            engine.Sensors.Add(sensors);
        }

        var engines = new List<CmapssEngine>(options.EffectiveUnits.Count);
        foreach (var unit in options.EffectiveUnits)
        {
            if (!rows.TryGetValue(unit, out var engine))
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"Simulator:Cmapss:Units names unit {unit}, which {path} does not contain"));
            }

            engines.Add(new CmapssEngine(unit, AssetIdOf(options.AssetPrefix, unit), engine.Cycles, engine.Sensors));
        }

        return new CmapssReplay(options, engines);
    }

    public static string AssetIdOf(string prefix, int unit) => prefix + unit.ToString("000", CultureInfo.InvariantCulture);

    /// <summary>
    /// The next cycle of every engine that has one, as telemetry at device times that only move forward. A life starts
    /// so that it ends no later than <paramref name="now"/> would be after replaying it in device time (the replay runs
    /// faster than 1 s per cycle, so its device time stays in the past, never beyond the gateway's future-skew bound).
    /// </summary>
    public void NextCycle(DateTimeOffset now, List<(string AssetId, TelemetryMessage Message)> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        for (var e = 0; e < Engines.Count; e++)
        {
            var engine = Engines[e];
            var cursor = _cursors[e];
            if (cursor.Row >= engine.Cycles.Count)
            {
                if (!_options.Loop)
                {
                    continue;
                }

                cursor.Row = 0;
                cursor.LifeStarted = false;
            }

            if (!cursor.LifeStarted)
            {
                // Device time of cycle c is origin + c s; a new life starts after the previous one's last reading.
                var lifeEnd = now.ToUnixTimeMilliseconds();
                var origin = lifeEnd - (engine.Cycles[^1] * MillisecondsPerCycle);
                cursor.OriginUnixMs = Math.Max(origin, cursor.LastDeviceTimeUnixMs + MillisecondsPerCycle - (engine.Cycles[0] * MillisecondsPerCycle));
                cursor.LifeStarted = true;
            }

            var cycle = engine.Cycles[cursor.Row];
            var values = engine.Sensors[cursor.Row];
            var deviceTime = cursor.OriginUnixMs + (cycle * MillisecondsPerCycle);
            cursor.LastDeviceTimeUnixMs = deviceTime;
            cursor.Row++;

            var readings = new Dictionary<string, double>(_sensorColumns.Length + 1, StringComparer.Ordinal);
            if (_options.IncludeCycle)
            {
                readings[CycleSensor] = cycle;
            }

            for (var i = 0; i < _sensorColumns.Length; i++)
            {
                readings[_options.EffectiveSensors[i]] = values[_sensorColumns[i]];
            }

            messages.Add((engine.AssetId, new TelemetryMessage
            {
                SchemaVersion = TelemetryMessage.CurrentSchemaVersion,
                Asset = engine.AssetId,
                DeviceTime = DateTimeOffset.FromUnixTimeMilliseconds(deviceTime),
                Readings = readings,
            }));
        }
    }

    /// <summary>A path as configured: absolute, or under the base directory or any folder above it; null when not found.</summary>
    public static string? ResolveFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (Path.IsPathRooted(path))
        {
            return System.IO.File.Exists(path) ? path : null;
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, path);
            if (System.IO.File.Exists(candidate))
            {
                return candidate;
            }
        }

        return System.IO.File.Exists(path) ? Path.GetFullPath(path) : null;
    }

    private static int SensorIndex(string sensor)
    {
        if (sensor.Length > 1 && sensor[0] == 's'
            && int.TryParse(sensor.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            && number is >= 1 and <= SensorCount)
        {
            return number - 1;
        }

        throw new InvalidDataException($"Simulator:Cmapss:Sensors: '{sensor}' is not a C-MAPSS sensor (s1..s21)");
    }

    private sealed class EngineCursor
    {
        public int Row { get; set; }

        public bool LifeStarted { get; set; }

        public long OriginUnixMs { get; set; }

        public long LastDeviceTimeUnixMs { get; set; } = long.MinValue / 2;
    }
}
