namespace PdM.Telemetry.Persistence;

/// <summary>The partitioned feature-window table: its DDL and its COPY column list, in one place.</summary>
public static class FeatureWindowsTable
{
    public const string Name = "feature_windows";

    public const string QualifiedName = TelemetryDbContext.Schema + "." + Name;

    /// <summary>Column order of <c>COPY ... FROM STDIN (FORMAT BINARY)</c>; the writers emit values in this order.</summary>
    public const string CopyCommand =
        "COPY " + QualifiedName + " (batch_id, row_index, source, site_id, asset_id, spec_digest, window_start, window_end, feature_values) FROM STDIN (FORMAT BINARY)";

    /// <summary>
    /// Range-partitioned by window start so retention is a DROP of whole days (no vacuum of deleted rows) and a
    /// snapshot of a time range reads only its days. No primary key: uniqueness comes from the inbox and the batch id.
    /// </summary>
    public const string CreateSql = """
        CREATE TABLE telemetry.feature_windows (
            batch_id uuid NOT NULL,
            row_index integer NOT NULL,
            source character varying(200) NOT NULL,
            site_id character varying(64) NOT NULL,
            asset_id character varying(128) NOT NULL,
            spec_digest character varying(80) NOT NULL,
            window_start timestamp with time zone NOT NULL,
            window_end timestamp with time zone NOT NULL,
            feature_values real[] NOT NULL
        ) PARTITION BY RANGE (window_start);
        CREATE INDEX ix_feature_windows_lookup ON telemetry.feature_windows (spec_digest, source, asset_id, window_end);
        CREATE INDEX ix_feature_windows_batch ON telemetry.feature_windows (batch_id);
        """;

    public const string DropSql = "DROP TABLE IF EXISTS telemetry.feature_windows CASCADE;";
}
