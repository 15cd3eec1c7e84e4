using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace PdM.Registry.Migrations
{
    /// <inheritdoc />
    public partial class InitialRegistry : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "registry");

            migrationBuilder.CreateTable(
                name: "inbox",
                schema: "registry",
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
                name: "models",
                schema: "registry",
                columns: table => new
                {
                    name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    asset_class = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    created_by = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_models", x => x.name);
                });

            migrationBuilder.CreateTable(
                name: "outbox",
                schema: "registry",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    message_type = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    payload_json = table.Column<string>(type: "jsonb", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    next_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    published_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    last_error = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_outbox", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "shadow_evaluations",
                schema: "registry",
                columns: table => new
                {
                    event_id = table.Column<Guid>(type: "uuid", nullable: false),
                    candidate_digest = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    gateway_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    asset_class = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    compared_rows = table.Column<long>(type: "bigint", nullable: false),
                    agreed_rows = table.Column<long>(type: "bigint", nullable: false),
                    candidate_failed_rows = table.Column<long>(type: "bigint", nullable: false),
                    period_start = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    period_end = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_shadow_evaluations", x => x.event_id);
                });

            migrationBuilder.CreateTable(
                name: "model_versions",
                schema: "registry",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    model_name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    version = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    asset_class = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    package_digest = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    artifact_sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    artifact_bytes = table.Column<long>(type: "bigint", nullable: false),
                    manifest_json = table.Column<string>(type: "text", nullable: false),
                    uploaded_by = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    uploaded_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    signature = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    signing_key_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    approved_by = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    approved_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_versions", x => x.id);
                    table.ForeignKey(
                        name: "FK_model_versions_models_model_name",
                        column: x => x.model_name,
                        principalSchema: "registry",
                        principalTable: "models",
                        principalColumn: "name",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "site_deployments",
                schema: "registry",
                columns: table => new
                {
                    version_id = table.Column<Guid>(type: "uuid", nullable: false),
                    site_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    stage = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    canary_share = table.Column<double>(type: "double precision", nullable: true),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    deployment_id = table.Column<Guid>(type: "uuid", nullable: true),
                    gateway_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    detail = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    promoted_by = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_site_deployments", x => new { x.version_id, x.site_id });
                    table.ForeignKey(
                        name: "FK_site_deployments_model_versions_version_id",
                        column: x => x.version_id,
                        principalSchema: "registry",
                        principalTable: "model_versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_model_versions_artifact_sha256",
                schema: "registry",
                table: "model_versions",
                column: "artifact_sha256");

            migrationBuilder.CreateIndex(
                name: "IX_model_versions_model_name_version",
                schema: "registry",
                table: "model_versions",
                columns: new[] { "model_name", "version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_outbox_next_attempt_at",
                schema: "registry",
                table: "outbox",
                column: "next_attempt_at",
                filter: "published_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_shadow_evaluations_candidate_digest",
                schema: "registry",
                table: "shadow_evaluations",
                column: "candidate_digest");

            migrationBuilder.CreateIndex(
                name: "IX_site_deployments_deployment_id",
                schema: "registry",
                table: "site_deployments",
                column: "deployment_id");

            migrationBuilder.CreateIndex(
                name: "IX_site_deployments_site_id_stage",
                schema: "registry",
                table: "site_deployments",
                columns: new[] { "site_id", "stage" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "inbox",
                schema: "registry");

            migrationBuilder.DropTable(
                name: "outbox",
                schema: "registry");

            migrationBuilder.DropTable(
                name: "shadow_evaluations",
                schema: "registry");

            migrationBuilder.DropTable(
                name: "site_deployments",
                schema: "registry");

            migrationBuilder.DropTable(
                name: "model_versions",
                schema: "registry");

            migrationBuilder.DropTable(
                name: "models",
                schema: "registry");
        }
    }
}
