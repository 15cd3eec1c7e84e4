using System.Globalization;
using PdM.Features;

namespace PdM.Training;

/// <summary>One AI4I 2020 process (row): physical inputs and the <c>Machine failure</c> label.</summary>
public sealed record Ai4iRow(
    int Udi,
    char ProductType,
    double AirTemperatureK,
    double ProcessTemperatureK,
    double RotationalSpeedRpm,
    double TorqueNm,
    double ToolWearMin,
    bool MachineFailure);

/// <summary>
/// ai4i2020.csv (UTF-8 with BOM, header, comma-separated). Only the physical columns become readings: the failure-mode
/// columns TWF, HDF, PWF, OSF and RNF leak the label and are never read. Sensor names are those of the shipped
/// <c>milling-machine</c> ruleset, so a model and the rules read the same facts. The file is one machine: the
/// process with UDI n is the tick at n × 1000 ms.
/// </summary>
public sealed class Ai4iDataset
{
    public const string AssetId = "ai4i2020-mill";
    public const string AirTemperature = "air_temperature_k";
    public const string ProcessTemperature = "process_temperature_k";
    public const string RotationalSpeed = "rotational_speed_rpm";
    public const string Torque = "torque_nm";
    public const string ToolWear = "tool_wear_min";

    /// <summary>Product quality L/M/H coded 1/2/3, as the ruleset's <c>product_type</c> fact.</summary>
    public const string ProductType = "product_type";

    public static readonly IReadOnlyList<string> Sensors =
        [AirTemperature, ProcessTemperature, RotationalSpeed, Torque, ToolWear, ProductType];

    private static readonly string[] s_expectedHeader =
    [
        "UDI", "Product ID", "Type", "Air temperature [K]", "Process temperature [K]", "Rotational speed [rpm]",
        "Torque [Nm]", "Tool wear [min]", "Machine failure", "TWF", "HDF", "PWF", "OSF", "RNF",
    ];

    private Ai4iDataset(string sha256, IReadOnlyList<Ai4iRow> rows, IReadOnlyList<string> problems)
    {
        Sha256 = sha256;
        Rows = rows;
        Problems = problems;
    }

    public string Sha256 { get; }

    public IReadOnlyList<Ai4iRow> Rows { get; }

    public IReadOnlyList<string> Problems { get; }

    public static double TypeCode(char type) => type switch { 'L' => 1, 'M' => 2, 'H' => 3, _ => double.NaN };

    public static Ai4iDataset Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(File.ReadAllBytes(path));
    }

    /// <summary>A file's content, e.g. an upload. A header other than the UCI one throws <see cref="InvalidDataException"/>.</summary>
    public static Ai4iDataset Parse(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var rows = new List<Ai4iRow>();
        var problems = new List<string>();

        // StreamReader detects and drops the UTF-8 BOM, so the first header name compares equal to "UDI".
        using var reader = new StreamReader(new MemoryStream(bytes), detectEncodingFromByteOrderMarks: true);
        var header = reader.ReadLine()?.TrimStart('\uFEFF').Split(',');
        if (header is null || !header.AsSpan().SequenceEqual(s_expectedHeader))
        {
            throw new InvalidDataException("ai4i2020.csv header is not the UCI header: " + (header is null ? "(empty file)" : string.Join(",", header)));
        }

        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            var f = line.Split(',');
            if (f.Length != s_expectedHeader.Length || f[2].Length != 1 || double.IsNaN(TypeCode(f[2][0])) ||
                !int.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var udi) ||
                !TryNumber(f[3], out var air) || !TryNumber(f[4], out var process) || !TryNumber(f[5], out var speed) ||
                !TryNumber(f[6], out var torque) || !TryNumber(f[7], out var wear) || f[8] is not ("0" or "1"))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"line {lineNumber}: malformed row"));
                continue;
            }

            rows.Add(new Ai4iRow(udi, f[2][0], air, process, speed, torque, wear, f[8] == "1"));
        }

        return new Ai4iDataset(DatasetDigest.Sha256Hex(bytes), rows, problems);
    }

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    public static long TimestampOf(int udi) => udi * 1000L;

    public static int UdiOf(FeatureVectorSnapshot vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        return (int)((vector.WindowEndUnixMs - 1) / 1000);
    }

    /// <summary>The physical readings of every process, in file order.</summary>
    public IEnumerable<FeatureReading> Readings()
    {
        foreach (var r in Rows)
        {
            var ts = TimestampOf(r.Udi);
            yield return new FeatureReading(AssetId, AirTemperature, ts, r.AirTemperatureK);
            yield return new FeatureReading(AssetId, ProcessTemperature, ts, r.ProcessTemperatureK);
            yield return new FeatureReading(AssetId, RotationalSpeed, ts, r.RotationalSpeedRpm);
            yield return new FeatureReading(AssetId, Torque, ts, r.TorqueNm);
            yield return new FeatureReading(AssetId, ToolWear, ts, r.ToolWearMin);
            yield return new FeatureReading(AssetId, ProductType, ts, TypeCode(r.ProductType));
        }
    }
}
