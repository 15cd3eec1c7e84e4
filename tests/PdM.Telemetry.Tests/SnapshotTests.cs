using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using PdM.Features;
using PdM.Telemetry.Persistence;
using PdM.Telemetry.Store;
using PdM.Training;

namespace PdM.Telemetry.Tests;

[Collection(TelemetrySuite.Name)]
public sealed class SnapshotTests(TelemetryFixture fixture)
{
    [Fact]
    public async Task A_snapshot_digest_is_stable_and_changes_when_one_value_of_one_row_changes()
    {
        var importer = fixture.Services.GetRequiredService<DatasetImporter>();
        var spec = CmapssTraining.DefaultSpec(30, includeCycle: true, longWindow: 100);
        var file = TelemetryFixture.CmapssSubset(units: 3, "snap");
        var import = await importer.ImportCmapssAsync(file, spec);
        Assert.False(import.AlreadyImported);
        Assert.True(import.Rows > 300);
        Assert.Equal(import.Rows, import.Labels);

        var again = await importer.ImportCmapssAsync(file, spec);
        Assert.True(again.AlreadyImported);
        Assert.Equal(import.Rows, await fixture.ScalarAsync("SELECT count(*) FROM telemetry.feature_windows WHERE source = $1", import.Source));

        await using var scope = fixture.Services.CreateAsyncScope();
        var snapshots = scope.ServiceProvider.GetRequiredService<SnapshotService>();
        var request = new SnapshotRequest { Name = "fd001-3", Source = import.Source, SpecDigest = import.SpecDigest, LabelKind = LabelKinds.Rul };
        var first = await snapshots.CreateAsync(request);
        var second = await snapshots.CreateAsync(request);
        Assert.Equal(import.Rows, first.RowCount);
        Assert.StartsWith("sha256:", first.Digest, StringComparison.Ordinal);
        Assert.Equal(first.Digest, second.Digest);
        Assert.Equal((first.RowCount, first.Digest), await snapshots.RecomputeAsync(first));

        var (data, problem) = await snapshots.ReadAsync(first.Id);
        Assert.Null(problem);
        Assert.Equal(first.RowCount, data!.Set.Examples.Count);
        Assert.Equal(spec.Features.Count, data.Set.FeatureCount);
        Assert.Equal(3, data.Set.Examples.Select(e => e.Group).Distinct().Count());

        await fixture.ScalarAsync(
            "WITH one AS (SELECT batch_id, row_index FROM telemetry.feature_windows WHERE source = $1 ORDER BY row_index LIMIT 1) " +
            "UPDATE telemetry.feature_windows w SET feature_values[2] = feature_values[2] + 0.001 FROM one " +
            "WHERE w.batch_id = one.batch_id AND w.row_index = one.row_index RETURNING 1", import.Source);

        var changed = await snapshots.RecomputeAsync(first);
        Assert.Equal(first.RowCount, changed.Rows);
        Assert.NotEqual(first.Digest, changed.Digest);
        var (stale, why) = await snapshots.ReadAsync(first.Id);
        Assert.Null(stale);
        Assert.Contains("changed", why, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_window_uploaded_again_in_another_batch_is_one_training_example_and_leaves_the_snapshot_unchanged()
    {
        var importer = fixture.Services.GetRequiredService<DatasetImporter>();
        var spec = CmapssTraining.DefaultSpec(30, includeCycle: true, longWindow: 100);
        var import = await importer.ImportCmapssAsync(TelemetryFixture.CmapssSubset(units: 2, "twice"), spec);
        await using var scope = fixture.Services.CreateAsyncScope();
        var snapshots = scope.ServiceProvider.GetRequiredService<SnapshotService>();
        var snapshot = await snapshots.CreateAsync(new SnapshotRequest { Name = "fd001-2", Source = import.Source, SpecDigest = import.SpecDigest, LabelKind = LabelKinds.Rul });
        Assert.Equal(import.Rows, snapshot.RowCount);

        // What a gateway restarted after a crash uploads: a window it had decided and uploaded before, decided again from
        // the redelivered readings in a new batch, once whole and once from a later start (a partial window).
        Assert.Equal(2, await fixture.ScalarAsync(
            "WITH one AS (SELECT * FROM telemetry.feature_windows WHERE source = $1 ORDER BY row_index LIMIT 1), " +
            "again AS (INSERT INTO telemetry.feature_windows (batch_id, row_index, source, site_id, asset_id, spec_digest, window_start, window_end, feature_values) " +
            "SELECT gen_random_uuid(), 0, source, site_id, asset_id, spec_digest, window_start + shift, window_end, feature_values FROM one, " +
            "(VALUES (interval '0'), (interval '1 millisecond')) AS s(shift) RETURNING 1) SELECT count(*) FROM again", import.Source));

        Assert.Equal(import.Rows + 2, await fixture.ScalarAsync("SELECT count(*) FROM telemetry.feature_windows WHERE source = $1", import.Source));
        Assert.Equal((snapshot.RowCount, snapshot.Digest), await snapshots.RecomputeAsync(snapshot));
        var (data, problem) = await snapshots.ReadAsync(snapshot.Id);
        Assert.Null(problem);
        Assert.Equal(import.Rows, data!.Set.Examples.Count);
    }

    [Fact]
    public async Task A_gateway_spec_registered_over_http_is_stored_under_the_digest_its_batches_carry()
    {
        var spec = CmapssTraining.DefaultSpec(30, includeCycle: true, longWindow: 100);

        var response = await fixture.Api.PutAsync("/api/feature-store/specs/turbofan-fd001", new StringContent(spec.ToJson(), Encoding.UTF8, "application/json"));
        var bad = await fixture.Api.PutAsync("/api/feature-store/specs/broken", new StringContent("{\"specVersion\":1}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var digest = await response.Content.ReadAsStringAsync();
        Assert.Equal(FeatureSpecDigest.Compute(spec), digest);
        Assert.Equal(1, await fixture.ScalarAsync("SELECT count(*) FROM telemetry.feature_specs WHERE digest = $1", digest));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task A_cmapss_file_uploaded_over_http_is_imported_once_and_a_file_with_a_malformed_line_is_refused_whole()
    {
        var spec = CmapssTraining.DefaultSpec(30, includeCycle: true, longWindow: 100);
        using var registered = await fixture.Api.PutAsync("/api/feature-store/specs/turbofan-fd001", new StringContent(spec.ToJson(), Encoding.UTF8, "application/json"));
        var digest = await registered.Content.ReadAsStringAsync();
        var file = TelemetryFixture.CmapssSubset(units: 2, "upload");
        var name = Path.GetFileNameWithoutExtension(file);
        var bytes = await File.ReadAllBytesAsync(file);
        var lines = await File.ReadAllLinesAsync(file);
        lines[5] = string.Join(' ', lines[5].Split(' ', StringSplitOptions.RemoveEmptyEntries)[..20]);
        string Import(string specDigest) => $"/api/feature-store/imports/cmapss?name={name}&specDigest={Uri.EscapeDataString(specDigest)}";

        using var first = await fixture.Api.PostAsync(Import(digest), new ByteArrayContent(bytes));
        using var again = await fixture.Api.PostAsync(Import(digest), new ByteArrayContent(bytes));
        using var malformed = await fixture.Api.PostAsync(Import(digest).Replace(name, name + "-broken", StringComparison.Ordinal),
            new StringContent(string.Join('\n', lines), Encoding.UTF8, "text/plain"));
        using var unknownSpec = await fixture.Api.PostAsync(Import("sha256:" + new string('0', 64)), new ByteArrayContent(bytes));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var import = await first.Content.ReadFromJsonAsync<JsonElement>();
        var source = import.GetProperty("source").GetString()!;
        var rows = import.GetProperty("rows").GetInt32();
        Assert.Equal("dataset:" + name, source);
        Assert.True(rows > 200, $"{rows} rows");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.True((await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("alreadyImported").GetBoolean());
        Assert.Equal(rows, await fixture.ScalarAsync("SELECT count(*) FROM telemetry.feature_windows WHERE source = $1", source));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("line 6", await malformed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await fixture.ScalarAsync("SELECT count(*) FROM telemetry.feature_windows WHERE source = $1", "dataset:" + name + "-broken"));
        Assert.Equal(HttpStatusCode.BadRequest, unknownSpec.StatusCode);

        using var snapshot = await fixture.Api.PostAsJsonAsync("/api/feature-store/snapshots", new { name = "upload", source, specDigest = digest, labelKind = "rul" });
        Assert.Equal(HttpStatusCode.Created, snapshot.StatusCode);
        Assert.Equal(rows, (await snapshot.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("rowCount").GetInt32());
    }
}
