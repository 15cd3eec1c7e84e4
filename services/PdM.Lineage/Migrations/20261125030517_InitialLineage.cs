using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace PdM.Lineage.Migrations
{
    /// <inheritdoc />
    public partial class InitialLineage : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "lineage");

            migrationBuilder.CreateTable(
                name: "audit_checkpoints",
                schema: "lineage",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    anchor_sequence = table.Column<long>(type: "bigint", nullable: false),
                    anchor_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    pruned_entries = table.Column<long>(type: "bigint", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_checkpoints", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "audit_entries",
                schema: "lineage",
                columns: table => new
                {
                    sequence = table.Column<long>(type: "bigint", nullable: false),
                    occurred_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    recorded_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    actor = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    action = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    subject = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    before_digest = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    after_digest = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    detail = table.Column<string>(type: "text", nullable: false),
                    source_message_id = table.Column<Guid>(type: "uuid", nullable: true),
                    previous_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_entries", x => x.sequence);
                });

            migrationBuilder.CreateTable(
                name: "edges",
                schema: "lineage",
                columns: table => new
                {
                    from_id = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    to_id = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_edges", x => new { x.from_id, x.to_id, x.kind });
                });

            migrationBuilder.CreateTable(
                name: "nodes",
                schema: "lineage",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    label = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    properties_json = table.Column<string>(type: "jsonb", nullable: false),
                    first_seen_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_nodes", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_audit_checkpoints_anchor_sequence",
                schema: "lineage",
                table: "audit_checkpoints",
                column: "anchor_sequence",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_audit_entries_recorded_at",
                schema: "lineage",
                table: "audit_entries",
                column: "recorded_at");

            migrationBuilder.CreateIndex(
                name: "IX_audit_entries_source_message_id",
                schema: "lineage",
                table: "audit_entries",
                column: "source_message_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_audit_entries_subject",
                schema: "lineage",
                table: "audit_entries",
                column: "subject");

            migrationBuilder.CreateIndex(
                name: "IX_edges_to_id",
                schema: "lineage",
                table: "edges",
                column: "to_id");

            // Append-only: an UPDATE is refused by the database itself. Retention deletes a prefix behind a
            // checkpoint; anything else (a superuser disabling the trigger) is what the hash chain detects.
            migrationBuilder.Sql("""
                CREATE FUNCTION lineage.audit_entries_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'lineage.audit_entries is append-only: entry % cannot be updated', OLD.sequence;
                END;
                $$;
                CREATE TRIGGER audit_entries_append_only BEFORE UPDATE ON lineage.audit_entries
                    FOR EACH ROW EXECUTE FUNCTION lineage.audit_entries_refuse_update();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS audit_entries_append_only ON lineage.audit_entries; DROP FUNCTION IF EXISTS lineage.audit_entries_refuse_update();");

            migrationBuilder.DropTable(
                name: "audit_checkpoints",
                schema: "lineage");

            migrationBuilder.DropTable(
                name: "audit_entries",
                schema: "lineage");

            migrationBuilder.DropTable(
                name: "edges",
                schema: "lineage");

            migrationBuilder.DropTable(
                name: "nodes",
                schema: "lineage");
        }
    }
}
