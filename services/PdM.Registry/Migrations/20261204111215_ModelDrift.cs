using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PdM.Registry.Migrations
{
    /// <inheritdoc />
    public partial class ModelDrift : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "model_drift",
                schema: "registry",
                columns: table => new
                {
                    event_id = table.Column<Guid>(type: "uuid", nullable: false),
                    model_digest = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    gateway_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    site_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    asset_class = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    feature = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    psi = table.Column<double>(type: "double precision", nullable: false),
                    threshold = table.Column<double>(type: "double precision", nullable: false),
                    feature_psi = table.Column<string>(type: "jsonb", nullable: false),
                    window_rows = table.Column<int>(type: "integer", nullable: false),
                    occurred_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_drift", x => x.event_id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_model_drift_model_digest_occurred_at",
                schema: "registry",
                table: "model_drift",
                columns: new[] { "model_digest", "occurred_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "model_drift",
                schema: "registry");
        }
    }
}
