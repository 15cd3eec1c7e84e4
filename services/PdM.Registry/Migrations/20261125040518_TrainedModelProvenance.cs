using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PdM.Registry.Migrations
{
    /// <inheritdoc />
    public partial class TrainedModelProvenance : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "dataset_digest",
                schema: "registry",
                table: "model_versions",
                type: "character varying(80)",
                maxLength: 80,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "dataset_snapshot_id",
                schema: "registry",
                table: "model_versions",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "training_run_id",
                schema: "registry",
                table: "model_versions",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "trained_model_rejections",
                schema: "registry",
                columns: table => new
                {
                    training_run_id = table.Column<Guid>(type: "uuid", nullable: false),
                    dataset_snapshot_id = table.Column<Guid>(type: "uuid", nullable: false),
                    model_name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    model_version = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    requested_by = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    package_digest = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: true),
                    reason = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    detail = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    rejected_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_trained_model_rejections", x => x.training_run_id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_model_versions_training_run_id",
                schema: "registry",
                table: "model_versions",
                column: "training_run_id",
                unique: true,
                filter: "training_run_id IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "trained_model_rejections",
                schema: "registry");

            migrationBuilder.DropIndex(
                name: "IX_model_versions_training_run_id",
                schema: "registry",
                table: "model_versions");

            migrationBuilder.DropColumn(
                name: "dataset_digest",
                schema: "registry",
                table: "model_versions");

            migrationBuilder.DropColumn(
                name: "dataset_snapshot_id",
                schema: "registry",
                table: "model_versions");

            migrationBuilder.DropColumn(
                name: "training_run_id",
                schema: "registry",
                table: "model_versions");
        }
    }
}
