using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PdM.Telemetry.Migrations
{
    /// <inheritdoc />
    public partial class InitialTelemetry : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "telemetry");

            // Declarative range partitioning is beyond EF Core's model: the parent table is plain SQL (see FeatureWindowsTable).
            migrationBuilder.Sql(PdM.Telemetry.Persistence.FeatureWindowsTable.CreateSql);

            migrationBuilder.CreateTable(
                name: "dataset_imports",
                schema: "telemetry",
                columns: table => new
                {
                    source = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    spec_digest = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    file_sha256 = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    batch_id = table.Column<Guid>(type: "uuid", nullable: false),
                    rows = table.Column<int>(type: "integer", nullable: false),
                    labels = table.Column<int>(type: "integer", nullable: false),
                    imported_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dataset_imports", x => new { x.source, x.spec_digest });
                });

            migrationBuilder.CreateTable(
                name: "dataset_snapshots",
                schema: "telemetry",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    source = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    spec_digest = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    label_kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    from = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    to = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    query = table.Column<string>(type: "text", nullable: false),
                    row_count = table.Column<int>(type: "integer", nullable: false),
                    digest = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dataset_snapshots", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "feature_batches",
                schema: "telemetry",
                columns: table => new
                {
                    batch_id = table.Column<Guid>(type: "uuid", nullable: false),
                    source = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    site_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    spec_digest = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    spec_name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    feature_names = table.Column<string[]>(type: "text[]", nullable: false),
                    row_count = table.Column<int>(type: "integer", nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_feature_batches", x => x.batch_id);
                });

            migrationBuilder.CreateTable(
                name: "feature_specs",
                schema: "telemetry",
                columns: table => new
                {
                    digest = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    spec_json = table.Column<string>(type: "text", nullable: false),
                    registered_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_feature_specs", x => x.digest);
                });

            migrationBuilder.CreateTable(
                name: "inbox",
                schema: "telemetry",
                columns: table => new
                {
                    message_id = table.Column<Guid>(type: "uuid", nullable: false),
                    consumer = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_inbox", x => new { x.message_id, x.consumer });
                });

            migrationBuilder.CreateTable(
                name: "labels",
                schema: "telemetry",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    source = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    site_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    asset_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    time_index = table.Column<int>(type: "integer", nullable: false),
                    label = table.Column<float>(type: "real", nullable: false),
                    target = table.Column<double>(type: "double precision", nullable: false),
                    failure_mode = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    outcome_id = table.Column<Guid>(type: "uuid", nullable: true),
                    recorded_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_labels", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "training_runs",
                schema: "telemetry",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    snapshot_id = table.Column<Guid>(type: "uuid", nullable: false),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    stage = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    percent_complete = table.Column<int>(type: "integer", nullable: false),
                    request_json = table.Column<string>(type: "jsonb", nullable: false),
                    dataset_digest = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: true),
                    model_name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    model_version = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    package_path = table.Column<string>(type: "text", nullable: true),
                    package_digest = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: true),
                    card_markdown = table.Column<string>(type: "text", nullable: true),
                    metrics_json = table.Column<string>(type: "jsonb", nullable: true),
                    error = table.Column<string>(type: "text", nullable: true),
                    queued_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_runs", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_feature_batches_received_at",
                schema: "telemetry",
                table: "feature_batches",
                column: "received_at");

            migrationBuilder.CreateIndex(
                name: "IX_inbox_received_at",
                schema: "telemetry",
                table: "inbox",
                column: "received_at");

            migrationBuilder.CreateIndex(
                name: "IX_labels_outcome_id",
                schema: "telemetry",
                table: "labels",
                column: "outcome_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_labels_source_asset_id_at",
                schema: "telemetry",
                table: "labels",
                columns: new[] { "source", "asset_id", "at" });

            migrationBuilder.CreateIndex(
                name: "IX_training_runs_snapshot_id",
                schema: "telemetry",
                table: "training_runs",
                column: "snapshot_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(PdM.Telemetry.Persistence.FeatureWindowsTable.DropSql);

            migrationBuilder.DropTable(
                name: "dataset_imports",
                schema: "telemetry");

            migrationBuilder.DropTable(
                name: "dataset_snapshots",
                schema: "telemetry");

            migrationBuilder.DropTable(
                name: "feature_batches",
                schema: "telemetry");

            migrationBuilder.DropTable(
                name: "feature_specs",
                schema: "telemetry");

            migrationBuilder.DropTable(
                name: "inbox",
                schema: "telemetry");

            migrationBuilder.DropTable(
                name: "labels",
                schema: "telemetry");

            migrationBuilder.DropTable(
                name: "training_runs",
                schema: "telemetry");
        }
    }
}
