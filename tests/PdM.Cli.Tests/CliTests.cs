using PdM.Testing;

namespace PdM.Cli.Tests;

public sealed class CliTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    [Fact]
    public async Task A_data_scientist_pushes_lists_and_shows_a_model_and_the_json_output_is_the_apis()
    {
        var alice = new CliUser(fixture.Server);
        await alice.SignIn("alice", "data-scientist");
        var name = Unique("cli-push");

        var push = await alice.Run("model", "push", CliFixture.Package("logreg_failure", name, "1.0.0"));
        Assert.True(push.ExitCode == ExitCodes.Success, push.ToString());
        Assert.Contains($"Registered {name} 1.0.0 (Candidate)", push.Output, StringComparison.Ordinal);
        Assert.Contains("uploaded by alice", push.Output, StringComparison.Ordinal);

        var models = await alice.Run("model", "list");
        Assert.Equal(ExitCodes.Success, models.ExitCode);
        Assert.Contains(name, models.Output, StringComparison.Ordinal);

        var versions = await alice.Run("model", "list", name, "--json");
        Assert.Equal(ExitCodes.Success, versions.ExitCode);
        var version = Assert.Single(versions.Json.AsArray())!;
        Assert.Equal("1.0.0", version["version"]!.GetValue<string>());
        Assert.Equal("alice", version["uploadedBy"]!.GetValue<string>());
        Assert.Equal(64, version["packageDigest"]!.GetValue<string>().Length);

        var show = await alice.Run("model", "show", name, "1.0.0");
        Assert.Equal(ExitCodes.Success, show.ExitCode);
        Assert.Contains("signed      no", show.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_uploader_cannot_approve_their_own_model_and_a_second_person_can_with_the_sites_evidence_or_an_admins_waiver_which_signs_it()
    {
        var alice = new CliUser(fixture.Server);
        await alice.SignIn("alice", "data-scientist", "approver");
        var bob = new CliUser(fixture.Server);
        await bob.SignIn("bob", "approver");
        var name = Unique("cli-4eyes");
        Assert.Equal(ExitCodes.Success, (await alice.Run("model", "push", CliFixture.Package("logreg_failure", name))).ExitCode);

        var own = await alice.Run("model", "promote", name, "1.0.0", "--stage", "Production", "--site", "plant-cli");
        Assert.Equal(ExitCodes.NotAllowed, own.ExitCode);
        Assert.Contains("four_eyes", own.Error, StringComparison.Ordinal);

        // A first Production model at a site needs that site's shadow evidence, even from a second person...
        var unshadowed = await bob.Run("model", "promote", name, "1.0.0", "--stage", "Production", "--site", "plant-cli");
        Assert.Equal(ExitCodes.Rejected, unshadowed.ExitCode);
        Assert.Contains("shadow_evidence_missing", unshadowed.Error, StringComparison.Ordinal);
        Assert.Contains("first Production model", unshadowed.Error, StringComparison.Ordinal);

        // ...or an admin's waiver with a reason (audited with the promotion).
        var root = new CliUser(fixture.Server);
        await root.SignIn("root", "admin");
        var approved = await root.Run("model", "promote", name, "1.0.0", "--stage", "Production", "--site", "plant-cli",
            "--shadow-override-reason", "first model at plant-cli; no Production model to shadow against");
        Assert.True(approved.ExitCode == ExitCodes.Success, approved.ToString());

        var show = (await bob.Run("model", "show", name, "1.0.0", "--json")).Json;
        Assert.Equal("root", show["approvedBy"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(show["signature"]!.GetValue<string>()));
        Assert.Equal("Production", show["sites"]![0]!["stage"]!.GetValue<string>());
    }

    [Fact]
    public async Task Deploy_is_refused_naming_the_sensors_the_sites_assets_lack_and_allow_partial_names_who_decides()
    {
        var alice = new CliUser(fixture.Server);
        await alice.SignIn("alice", "data-scientist");
        var name = Unique("cli-compat");
        Assert.Equal(ExitCodes.Success, (await alice.Run("model", "push", CliFixture.Package("logreg_failure", name))).ExitCode);
        var site = Unique("mill-plant");
        await GatewayInventories.ReportAsync(fixture.Bus, fixture.Admin, site, "milling-machine",
            ("MILL-1", ["air_temperature_k", "process_temperature_k", "rotational_speed_rpm", "torque_nm", "tool_wear_min"]),
            ("MILL-2", ["air_temperature_k", "rotational_speed_rpm"]));

        var refused = await alice.Run("model", "deploy", name, "1.0.0", "--stage", "Shadow", "--site", site, "--wait-seconds", "2");
        Assert.True(refused.ExitCode == ExitCodes.Rejected, refused.ToString());
        Assert.Contains("feature_mismatch", refused.Error, StringComparison.Ordinal);
        Assert.Contains($"keeps the rules: {site}/MILL-2 (missing sensors: process_temperature_k, torque_nm, tool_wear_min)", refused.Error, StringComparison.Ordinal);
        Assert.Empty((await alice.Run("model", "show", name, "1.0.0", "--json")).Json["sites"]!.AsArray());

        var partial = await alice.Run("model", "promote", name, "1.0.0", "--stage", "Shadow", "--site", site, "--allow-partial");
        Assert.True(partial.ExitCode == ExitCodes.Success, partial.ToString());
        Assert.Contains($"decides: {site}/MILL-1", partial.Output, StringComparison.Ordinal);
        Assert.Contains($"keeps the rules: {site}/MILL-2 (missing sensors: process_temperature_k, torque_nm, tool_wear_min)", partial.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_follows_the_gateways_answer_and_says_so_when_none_comes()
    {
        var alice = new CliUser(fixture.Server);
        await alice.SignIn("alice", "data-scientist");
        var name = Unique("cli-deploy");
        Assert.Equal(ExitCodes.Success, (await alice.Run("model", "push", CliFixture.Package("logreg_failure", name))).ExitCode);

        // No gateway serves this site: the request stays Requested and deploy gives up after its wait, exit 6.
        var deploy = await alice.Run("model", "deploy", name, "1.0.0", "--stage", "Shadow", "--site", "plant-without-gateway", "--wait-seconds", "2");
        Assert.Equal(ExitCodes.Unavailable, deploy.ExitCode);
        Assert.Contains("Requested", deploy.Output, StringComparison.Ordinal);
        Assert.Contains("no answer from every site's gateway", deploy.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_failure_has_its_own_exit_code_and_a_reason_a_person_can_act_on()
    {
        var anonymous = new CliUser(fixture.Server);
        var noToken = await anonymous.Run("model", "list");
        Assert.Equal(ExitCodes.NotAllowed, noToken.ExitCode);
        Assert.Contains("pdm token", noToken.Error, StringComparison.Ordinal);

        var planner = new CliUser(fixture.Server);
        await planner.SignIn("paula", "planner");
        var wrongRole = await planner.Run("model", "push", CliFixture.Package("logreg_failure", Unique("cli-role")));
        Assert.Equal(ExitCodes.NotAllowed, wrongRole.ExitCode);

        var alice = new CliUser(fixture.Server);
        await alice.SignIn("alice", "data-scientist");
        var broken = await alice.Run("model", "push", CliFixture.Package("broken_golden_mismatch", Unique("cli-broken")), "--json");
        Assert.Equal(ExitCodes.Rejected, broken.ExitCode);
        Assert.Contains("golden_vector_mismatch", broken.Error, StringComparison.Ordinal);
        Assert.Equal("golden_vector_mismatch", broken.Json["error"]!["reason"]!.GetValue<string>());

        var missing = await alice.Run("model", "show", "no-such-model", "9.9.9");
        Assert.Equal(ExitCodes.NotFound, missing.ExitCode);

        var emptyDir = Directory.CreateTempSubdirectory("pdm-cli-empty").FullName;
        var usage = await alice.Run("model", "push", emptyDir);
        Assert.Equal(ExitCodes.Usage, usage.ExitCode);
        Assert.Contains("model.onnx and manifest.json", usage.Error, StringComparison.Ordinal);

        Assert.Equal(ExitCodes.Usage, (await alice.Run("model", "promote", "x", "1.0.0", "--stage", "Live", "--site", "s")).ExitCode);

        alice.Environment["PDM_TOKEN"] = "not-a-jwt";
        Assert.Equal(ExitCodes.NotAllowed, (await alice.Run("model", "list")).ExitCode);

        var unreachable = await alice.Run("model", "list", "--server", "http://127.0.0.1:9");
        Assert.Equal(ExitCodes.Unavailable, unreachable.ExitCode);
        Assert.Contains("cannot reach", unreachable.Error, StringComparison.Ordinal);
    }

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
}
