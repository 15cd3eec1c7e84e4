using System.Text.Json.Nodes;

namespace PdM.Cmms.Stubs;

/// <summary>What both CMMS stubs keep of a record: its fields as the CMMS stores them, and how many updates reached it.</summary>
public abstract class StubRecord
{
    public required JsonObject Fields { get; init; }

    public int UpdateCount { get; private set; }

    /// <summary>
    /// Applies an accepted update field by field under the record's lock (Maximo's PATCH and SAP's MERGE both leave
    /// fields the update does not name as they were); returns the changed field names, for the log.
    /// </summary>
    internal string ApplyUpdate(JsonObject changes)
    {
        lock (this)
        {
            foreach (var (name, value) in changes)
            {
                Fields[name] = value?.DeepClone();
            }

            UpdateCount++;
        }

        return string.Join(",", changes.Select(p => p.Key));
    }
}
