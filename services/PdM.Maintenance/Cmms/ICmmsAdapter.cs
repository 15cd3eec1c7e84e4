using PdM.Contracts.Maintenance;

namespace PdM.Maintenance.Cmms;

/// <summary>
/// One site's CMMS. Every adapter looks the record up by our external key before it creates one, so a retry after a
/// crash between send and acknowledgement finds the first record instead of creating a second.
/// </summary>
public interface ICmmsAdapter
{
    /// <summary><c>maximo</c>, <c>sap</c> or <c>webhook</c>.</summary>
    string System { get; }

    /// <summary>Whether <see cref="ReadAsync"/> can report a record's status (the feedback loop polls only those).</summary>
    bool CanReadStatus { get; }

    /// <summary>
    /// The value this CMMS keeps as our key for the work order (the field it looks records up by), derived
    /// deterministically from <paramref name="externalKey"/> and fitted to the field the vendor publishes.
    /// </summary>
    string ReferenceFor(string externalKey);

    /// <summary>Creates the record, or updates it when it exists (known id, or found by external key).</summary>
    Task<CmmsResult> UpsertAsync(CanonicalWorkOrder workOrder, CmmsRecordRef? known, CancellationToken cancellationToken);

    Task<CmmsResult> ReadAsync(CmmsRecordRef record, CancellationToken cancellationToken);
}
