using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PdM.Cli;

/// <summary><c>pdm model package | push | list | show | promote | deploy</c> over the registry's <c>/api/models</c>.</summary>
internal static class ModelCommands
{
    private static readonly string[] Stages = ["Shadow", "Canary", "Production", "Archived"];

    public static Command Create(GlobalOptions global, CliEnvironment environment)
    {
        var model = new Command("model", "Model versions in the registry");
        model.Subcommands.Add(PackageCommand.Create(global, environment));
        model.Subcommands.Add(Push(global, environment));
        model.Subcommands.Add(List(global, environment));
        model.Subcommands.Add(Show(global, environment));
        model.Subcommands.Add(Promote(global, environment, wait: false));
        model.Subcommands.Add(Promote(global, environment, wait: true));
        return model;
    }

    private static Command Push(GlobalOptions global, CliEnvironment environment)
    {
        var package = new Argument<DirectoryInfo>("package") { Description = "Package directory holding model.onnx and manifest.json (what training writes)" };
        var name = new Option<string?>("--name") { Description = "Model name (default: the manifest's name)" };
        var command = new Command("push", "Upload a model package; the registry validates it as the gateways will and registers a Candidate") { package, name };
        command.SetAction(PdmCli.Action(global, environment, async (parse, session, cancellationToken) =>
        {
            var dir = parse.GetValue(package)!;
            var modelFile = Path.Combine(dir.FullName, "model.onnx");
            var manifestFile = Path.Combine(dir.FullName, "manifest.json");
            if (!File.Exists(modelFile) || !File.Exists(manifestFile))
            {
                return session.Usage($"{dir.FullName} must contain model.onnx and manifest.json");
            }

            var modelName = parse.GetValue(name);
            if (string.IsNullOrWhiteSpace(modelName))
            {
                try
                {
                    modelName = JsonNode.Parse(await File.ReadAllTextAsync(manifestFile, cancellationToken).ConfigureAwait(false)).Str("name");
                }
                catch (JsonException ex)
                {
                    return session.Usage($"manifest.json is not JSON ({ex.Message}); fix it or pass --name");
                }

                if (string.IsNullOrWhiteSpace(modelName))
                {
                    return session.Usage("manifest.json has no \"name\"; pass --name");
                }
            }

            using var form = new MultipartFormDataContent();
            var onnx = new ByteArrayContent(await File.ReadAllBytesAsync(modelFile, cancellationToken).ConfigureAwait(false));
            onnx.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(onnx, "model", "model.onnx");
            var manifest = new ByteArrayContent(await File.ReadAllBytesAsync(manifestFile, cancellationToken).ConfigureAwait(false));
            manifest.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            form.Add(manifest, "manifest", "manifest.json");

            // The model card (training and `pdm model package --label` write one) travels with the package.
            var cardFile = Path.Combine(dir.FullName, "model-card.json");
            if (File.Exists(cardFile))
            {
                var card = new ByteArrayContent(await File.ReadAllBytesAsync(cardFile, cancellationToken).ConfigureAwait(false));
                card.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                form.Add(card, "card", "model-card.json");
            }

            using var api = session.Api();
            var result = await api.PostAsync($"api/models/{Uri.EscapeDataString(modelName)}/versions", form, cancellationToken).ConfigureAwait(false);
            if (!result.IsSuccess)
            {
                return session.Fail(result);
            }

            if (session.Json)
            {
                session.WriteJson(result.Body);
            }
            else
            {
                var v = result.Body;
                session.Line($"Registered {v.Str("modelName")} {v.Str("version")} (Candidate) for {v.Str("assetClass")}, digest {v.Str("packageDigest")}, uploaded by {v.Str("uploadedBy")}");
                if (v.Str("cardUrl").Length > 0)
                {
                    session.Line($"Model card: {v.Str("cardUrl")}");
                }
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command List(GlobalOptions global, CliEnvironment environment)
    {
        var name = new Argument<string?>("name") { Description = "A model name: list its versions (default: list the models)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("list", "List models, or one model's versions with their stage per site") { name };
        command.SetAction(PdmCli.Action(global, environment, async (parse, session, cancellationToken) =>
        {
            var modelName = parse.GetValue(name);
            using var api = session.Api();
            var result = await api.GetAsync(modelName is null ? "api/models" : $"api/models/{Uri.EscapeDataString(modelName)}/versions", cancellationToken).ConfigureAwait(false);
            if (!result.IsSuccess)
            {
                return session.Fail(result);
            }

            if (session.Json)
            {
                session.WriteJson(result.Body);
            }
            else if (modelName is null)
            {
                session.Table(["NAME", "ASSET CLASS", "VERSIONS", "CREATED BY"],
                    [.. result.Body.Items().Select(m => new[] { m.Str("name"), m.Str("assetClass"), m.Str("versions"), m.Str("createdBy") })]);
            }
            else
            {
                session.Table(["VERSION", "DIGEST", "UPLOADED BY", "APPROVED BY", "SITES"],
                    [.. result.Body.Items().Select(v => new[] { v.Str("version"), Short(v.Str("packageDigest")), v.Str("uploadedBy"), Or(v.Str("approvedBy"), "-"), Sites(v) })]);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Show(GlobalOptions global, CliEnvironment environment)
    {
        var name = new Argument<string>("name");
        var version = new Argument<string>("version");
        var command = new Command("show", "One version: digest, signature, approver, stage and deployment status per site, shadow evidence") { name, version };
        command.SetAction(PdmCli.Action(global, environment, async (parse, session, cancellationToken) =>
        {
            using var api = session.Api();
            var result = await GetVersionAsync(api, parse.GetValue(name)!, parse.GetValue(version)!, cancellationToken).ConfigureAwait(false);
            if (!result.IsSuccess)
            {
                return session.Fail(result);
            }

            if (session.Json)
            {
                session.WriteJson(result.Body);
                return ExitCodes.Success;
            }

            var v = result.Body;
            session.Line($"{v.Str("modelName")} {v.Str("version")} ({v.Str("assetClass")})");
            session.Line($"  digest      {v.Str("packageDigest")}");
            session.Line($"  uploaded    {v.Str("uploadedBy")} at {v.Str("uploadedAt")}");
            session.Line($"  approved    {Or(v.Str("approvedBy"), "-")}");
            session.Line($"  signed      {(v.Str("signature").Length > 0 ? "yes (key " + v.Str("signingKeyId") + ")" : "no")}");
            session.Line($"  card        {(v.Str("cardUrl").Length > 0 ? v.Str("cardUrl") + " (HTML with Accept: text/html, else JSON; bearer token as for the API)" : "none: push the package with its model-card.json (training and `pdm model package --label` write one)")}");
            foreach (var s in v.Arr("sites").Items())
            {
                session.Line($"  site {s.Str("siteId")}: {s.Str("stage")} {s.Str("status")}{Suffix(s.Str("detail"))}");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>
    /// <c>promote</c> asks for the stage and returns; <c>deploy</c> does the same, then follows the gateways' answers
    /// until every site has succeeded or one failed (exit 1 with the gateway's reason).
    /// </summary>
    private static Command Promote(GlobalOptions global, CliEnvironment environment, bool wait)
    {
        var name = new Argument<string>("name");
        var version = new Argument<string>("version");
        var stage = new Option<string>("--stage") { Description = "Shadow, Canary, Production or Archived", Required = !wait };
        if (wait)
        {
            stage.DefaultValueFactory = _ => "Shadow";
        }

        stage.AcceptOnlyFromAmong(Stages);
        var sites = new Option<string[]>("--site") { Description = "Site id (repeatable)", Required = true, AllowMultipleArgumentsPerToken = true };
        var share = new Option<double?>("--canary-share") { Description = "Share of the site's assets the canary drives, in (0, 1]" };
        var waiver = new Option<string?>("--shadow-override-reason") { Description = "Admin only: why the version may decide (Canary, Production) without the sites' shadow evidence; audited" };
        var partial = new Option<bool>("--allow-partial")
        {
            Description = "Deploy although some assets of the sites lack sensors the model's features read (they keep the rules; the audit lists them). Without it such a deployment is refused (feature_mismatch)",
        };
        var command = wait
            ? new Command("deploy", "Promote to a stage at sites and wait for the gateways to load it (or refuse it)") { name, version, stage, sites, share, waiver, partial }
            : new Command("promote", "Move a version to a stage at sites (Canary and Production need an approver who is not the uploader)") { name, version, stage, sites, share, waiver, partial };
        var waitSeconds = new Option<int>("--wait-seconds") { Description = "How long to follow the deployment", DefaultValueFactory = _ => 120 };
        if (wait)
        {
            command.Options.Add(waitSeconds);
        }

        command.SetAction(PdmCli.Action(global, environment, async (parse, session, cancellationToken) =>
        {
            var modelName = parse.GetValue(name)!;
            var modelVersion = parse.GetValue(version)!;
            var siteIds = parse.GetValue(sites) ?? [];
            var body = new JsonObject
            {
                ["stage"] = parse.GetValue(stage),
                ["siteIds"] = new JsonArray([.. siteIds.Select(s => (JsonNode)JsonValue.Create(s))]),
                ["canaryShare"] = parse.GetValue(share),
                ["shadowOverrideReason"] = parse.GetValue(waiver),
                ["allowPartial"] = parse.GetValue(partial),
            };

            using var api = session.Api();
            var result = await api.PostJsonAsync($"api/models/{Uri.EscapeDataString(modelName)}/versions/{Uri.EscapeDataString(modelVersion)}/promote", body, cancellationToken).ConfigureAwait(false);
            if (!result.IsSuccess)
            {
                var code = session.Fail(result);
                WriteFallbackAssets(session.Error, result.Body?["compatibility"]);
                return code;
            }

            if (!session.Json)
            {
                WriteCompatibility(session, result.Body?["compatibility"]);
            }

            if (!wait)
            {
                if (session.Json)
                {
                    session.WriteJson(result.Body);
                }
                else
                {
                    session.Line($"{modelName} {modelVersion} → {parse.GetValue(stage)} at {string.Join(", ", siteIds)}; deployment requested");
                }

                return ExitCodes.Success;
            }

            return await FollowAsync(api, session, modelName, modelVersion, siteIds, TimeSpan.FromSeconds(parse.GetValue(waitSeconds)), cancellationToken).ConfigureAwait(false);
        }));
        return command;
    }

    private static async Task<int> FollowAsync(PdmApi api, CliSession session, string name, string version, string[] siteIds, TimeSpan limit, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var result = await GetVersionAsync(api, name, version, cancellationToken).ConfigureAwait(false);
            if (!result.IsSuccess)
            {
                return session.Fail(result);
            }

            var states = result.Body.Arr("sites").Items().Where(s => siteIds.Contains(s.Str("siteId"), StringComparer.Ordinal)).ToList();
            var failed = states.FirstOrDefault(s => s.Str("status") is "Failed" or "RolledBack");
            var done = states.Count == siteIds.Length && states.All(s => s.Str("status") is "Succeeded" or "Archived");
            if (failed is not null || done || clock.Elapsed >= limit)
            {
                if (session.Json)
                {
                    session.WriteJson(result.Body);
                }
                else
                {
                    foreach (var s in states)
                    {
                        session.Line($"{name} {version} at {s.Str("siteId")}: {s.Str("stage")} {s.Str("status")}{Suffix(s.Str("gatewayId"), " on ")}{Suffix(s.Str("detail"))}");
                    }
                }

                if (failed is not null)
                {
                    session.Error.WriteLine($"error: the gateway at {failed.Str("siteId")} refused {name} {version}: {failed.Str("detail")}");
                    return ExitCodes.Failed;
                }

                if (!done)
                {
                    session.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"error: no answer from every site's gateway within {limit.TotalSeconds:0} s (still Requested); `pdm model show {name} {version}` follows it"));
                    return ExitCodes.Unavailable;
                }

                return ExitCodes.Success;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>What the registry found about the sites' assets: who decides with the version, who keeps the rules, what it could not check.</summary>
    private static void WriteCompatibility(CliSession session, JsonNode? compatibility)
    {
        if (compatibility is null)
        {
            return;
        }

        var deciding = compatibility.Arr("decidingAssets").Items().Select(a => $"{a.Str("siteId")}/{a.Str("assetId")}").ToList();
        if (deciding.Count > 0)
        {
            session.Line($"decides: {string.Join(", ", deciding)}");
        }

        WriteFallbackAssets(session.Output, compatibility);
        foreach (var site in compatibility.Arr("uncheckedSites").Items())
        {
            session.Line($"not checked at {site.GetValue<string>()}: no gateway there has reported its assets yet (the gateway checks when it loads the model)");
        }
    }

    private static void WriteFallbackAssets(TextWriter writer, JsonNode? compatibility)
    {
        if (compatibility is null)
        {
            return;
        }

        foreach (var a in compatibility.Arr("fallbackAssets").Items())
        {
            writer.WriteLine($"keeps the rules: {a.Str("siteId")}/{a.Str("assetId")} (missing sensors: {string.Join(", ", a.Arr("missingSensors").Items().Select(s => s.GetValue<string>()))})");
        }

        foreach (var site in compatibility.Arr("sitesWithoutAssets").Items())
        {
            writer.WriteLine($"keeps the rules: {site.GetValue<string>()} (no asset of the model's class reported there)");
        }
    }

    private static Task<ApiResult> GetVersionAsync(PdmApi api, string name, string version, CancellationToken cancellationToken) =>
        api.GetAsync($"api/models/{Uri.EscapeDataString(name)}/versions/{Uri.EscapeDataString(version)}", cancellationToken);

    private static string Sites(JsonNode version)
    {
        var sites = version.Arr("sites").Items().Select(s => $"{s.Str("siteId")}:{s.Str("stage")}/{s.Str("status")}").ToList();
        return sites.Count == 0 ? "Candidate" : string.Join(" ", sites);
    }

    private static string Short(string digest) => digest.Length > 12 ? digest[..12] : digest;

    private static string Or(string value, string fallback) => value.Length == 0 ? fallback : value;

    private static string Suffix(string value, string prefix = " — ") => value.Length == 0 ? string.Empty : prefix + value;
}
