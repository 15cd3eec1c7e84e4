using System.Globalization;
using System.Text;
using PdM.Training;

namespace PdM.Telemetry.Api;

/// <summary>A snapshot's rows as CSV (the group is the asset, or the process for a one-asset data set): <c>group,time_index,{features…},label,target</c>, floats written to round-trip.</summary>
internal static class SnapshotCsv
{
    public static string Write(TrainingSet set)
    {
        var csv = new StringBuilder();
        csv.Append("group,time_index,").AppendJoin(',', set.FeatureNames).Append(",label,target\n");
        foreach (var row in set.Examples)
        {
            csv.Append(row.Group).Append(',').Append(row.Time.ToString(CultureInfo.InvariantCulture));
            foreach (var value in row.Features)
            {
                csv.Append(',').Append(value.ToString("R", CultureInfo.InvariantCulture));
            }

            csv.Append(',').Append(row.Label.ToString("R", CultureInfo.InvariantCulture))
                .Append(',').Append(row.Target.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }

        return csv.ToString();
    }
}
