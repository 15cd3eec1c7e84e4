using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PdM.Features;

namespace PdM.Cli.Packaging;

/// <summary>
/// The rows a model is packaged with: one float column per feature of the spec, in spec order, and the label column
/// when there is one. Read from comma-separated text whose header names the columns (a data scientist's CSV, or a
/// feature-store snapshot as the Telemetry API serves it). Other columns are kept as numbers where they are numbers
/// (<see cref="OtherColumns"/>): the model never sees them, but the rules on the card may read them as facts.
/// </summary>
internal sealed class FeatureTable
{
    private FeatureTable(
        IReadOnlyList<string> names, IReadOnlyList<float[]> rows, IReadOnlyList<double>? labels, string sha256Hex,
        IReadOnlyList<string> otherNames, IReadOnlyList<double[]> otherRows)
    {
        OtherColumns = otherNames;
        OtherRows = otherRows;
        FeatureNames = names;
        Rows = rows;
        Labels = labels;
        Sha256Hex = sha256Hex;
    }

    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Feature vectors in file order; a missing or <c>NaN</c> cell is NaN.</summary>
    public IReadOnlyList<float[]> Rows { get; }

    public IReadOnlyList<double>? Labels { get; }

    /// <summary>The columns that are neither a feature nor the label, in file order.</summary>
    public IReadOnlyList<string> OtherColumns { get; }

    /// <summary>Per row, the <see cref="OtherColumns"/>' values; a cell that is empty or not a number is NaN.</summary>
    public IReadOnlyList<double[]> OtherRows { get; }

    /// <summary>SHA-256 of the exact bytes read: the dataset digest in the package's provenance.</summary>
    public string Sha256Hex { get; }

    /// <summary>The table, or a message naming what is wrong (a feature with no column, a cell that is not a number).</summary>
    public static (FeatureTable? Table, string? Problem) Read(byte[] csv, FeatureSpec spec, string? labelColumn, string source)
    {
        ArgumentNullException.ThrowIfNull(csv);
        ArgumentNullException.ThrowIfNull(spec);
        var lines = Encoding.UTF8.GetString(csv).TrimStart('\uFEFF').Split('\n');
        if (lines.Length == 0 || string.IsNullOrWhiteSpace(lines[0]))
        {
            return (null, $"{source} is empty: expected a header line of feature names, then one row per line");
        }

        var header = Cells(lines[0]);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < header.Length; i++)
        {
            index.TryAdd(header[i], i);
        }

        var names = spec.Features.Select(f => f.Name).ToArray();
        var missing = names.Where(n => !index.ContainsKey(n)).ToList();
        if (missing.Count > 0)
        {
            return (null, $"{source} has no column for {missing.Count} of the spec's {names.Length} features: {string.Join(", ", missing)} (its columns: {string.Join(", ", header)})");
        }

        var label = -1;
        if (labelColumn is not null && !index.TryGetValue(labelColumn, out label))
        {
            return (null, $"{source} has no label column '{labelColumn}' (its columns: {string.Join(", ", header)})");
        }

        var columns = names.Select(n => index[n]).ToArray();
        var used = new HashSet<int>(columns) { label };
        var others = Enumerable.Range(0, header.Length).Where(i => !used.Contains(i) && index[header[i]] == i).ToArray();
        var otherRows = new List<double[]>(lines.Length);
        var rows = new List<float[]>(lines.Length);
        var labels = label >= 0 ? new List<double>(lines.Length) : null;
        for (var l = 1; l < lines.Length; l++)
        {
            if (string.IsNullOrWhiteSpace(lines[l]))
            {
                continue;
            }

            var cells = Cells(lines[l]);
            var row = new float[columns.Length];
            for (var f = 0; f < columns.Length; f++)
            {
                if (!TryNumber(cells, columns[f], out var value))
                {
                    return (null, Bad(source, l, names[f], cells, columns[f]));
                }

                row[f] = (float)value;
            }

            if (labels is not null)
            {
                if (!TryNumber(cells, label, out var y) || !double.IsFinite(y))
                {
                    return (null, Bad(source, l, labelColumn!, cells, label));
                }

                labels.Add(y);
            }

            rows.Add(row);
            var other = new double[others.Length];
            for (var o = 0; o < others.Length; o++)
            {
                other[o] = TryNumber(cells, others[o], out var value) ? value : double.NaN;
            }

            otherRows.Add(other);
        }

        if (rows.Count == 0)
        {
            return (null, $"{source} has a header but no rows");
        }

        return (new FeatureTable(names, rows, labels, Convert.ToHexStringLower(SHA256.HashData(csv)), [.. others.Select(i => header[i])], otherRows), null);
    }

    private static string Bad(string source, int line, string column, string[] cells, int index) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{source} line {line + 1}, column '{column}': '{(index < cells.Length ? cells[index] : string.Empty)}' is not a number");

    /// <summary>Empty and NaN cells are missing values (NaN); anything else must be an invariant-culture number.</summary>
    private static bool TryNumber(string[] cells, int index, out double value)
    {
        var text = index < cells.Length ? cells[index] : string.Empty;
        if (text.Length == 0 || text.Equals("NaN", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NaN;
            return true;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Comma-separated cells, trimmed, surrounding double quotes removed (no quoted commas: feature rows are numbers).</summary>
    private static string[] Cells(string line)
    {
        var cells = line.TrimEnd('\r').Split(',');
        for (var i = 0; i < cells.Length; i++)
        {
            cells[i] = cells[i].Trim().Trim('"');
        }

        return cells;
    }
}
