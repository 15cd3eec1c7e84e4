using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PdM.Registry.Migrations
{
    /// <inheritdoc />
    public partial class DecisionOutcomes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "decision_outcomes",
                schema: "registry",
                columns: table => new
                {
                    outcome_id = table.Column<Guid>(type: "uuid", nullable: false),
                    path = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    version = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    digest = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: true),
                    site_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    asset_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    failure_mode = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    failure_confirmed = table.Column<bool>(type: "boolean", nullable: false),
                    failure_code = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    source = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    work_order_id = table.Column<Guid>(type: "uuid", nullable: false),
                    closed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_decision_outcomes", x => x.outcome_id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_decision_outcomes_path_name_version",
                schema: "registry",
                table: "decision_outcomes",
                columns: new[] { "path", "name", "version" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "decision_outcomes",
                schema: "registry");
        }
    }
}
