using System.CommandLine;
using System.Text.Json.Nodes;

namespace PdM.Cli;

/// <summary>
/// <c>pdm token</c>: a token from the platform's development issuer (<c>POST /api/auth/dev-token</c>), which exists
/// only in Development and Demo. Against a real OIDC issuer, get a token from it and pass it as PDM_TOKEN.
/// </summary>
internal static class TokenCommand
{
    public static Command Create(GlobalOptions global, CliEnvironment environment)
    {
        var user = new Option<string>("--user") { Description = "User name the token is for", Required = true };
        var roles = new Option<string[]>("--role")
        {
            Description = "Role (repeatable): data-scientist, approver, planner, gateway, admin",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var site = new Option<string?>("--site") { Description = "Site claim (gateway tokens: the site whose artifacts it may fetch)" };
        var lifetime = new Option<int>("--lifetime-minutes") { Description = "Token lifetime", DefaultValueFactory = _ => 60 };
        var save = new Option<bool>("--save") { Description = "Store the token for later pdm commands instead of printing it" };

        var command = new Command("token", "Get an access token from the development issuer (Development and Demo only)") { user, roles, site, lifetime, save };
        command.SetAction(PdmCli.Action(global, environment, async (parse, session, cancellationToken) =>
        {
            var minutes = parse.GetValue(lifetime);
            if (minutes is <= 0 or > 24 * 60)
            {
                return session.Usage("--lifetime-minutes must be between 1 and 1440");
            }

            var roleArray = new JsonArray();
            foreach (var role in parse.GetValue(roles) ?? [])
            {
                roleArray.Add(role);
            }

            var body = new JsonObject
            {
                ["user"] = parse.GetValue(user),
                ["roles"] = roleArray,
                ["site"] = parse.GetValue(site),
                ["lifetimeMinutes"] = minutes,
            };

            using var api = session.Api(authenticated: false);
            var result = await api.PostJsonAsync("api/auth/dev-token", body, cancellationToken).ConfigureAwait(false);
            if (!result.IsSuccess)
            {
                if (result.Status == System.Net.HttpStatusCode.NotFound)
                {
                    session.Error.WriteLine("error: this platform has no development issuer (it runs only in Development and Demo): get a token from your OIDC issuer and set PDM_TOKEN");
                    return ExitCodes.NotFound;
                }

                return session.Fail(result);
            }

            var token = result.Body.Str("accessToken");
            if (parse.GetValue(save))
            {
                session.Tokens.Save(token);
                if (session.Json)
                {
                    session.WriteJson(new JsonObject { ["saved"] = session.Tokens.Path, ["expiresAt"] = result.Body.Str("expiresAt") });
                }
                else
                {
                    session.Line($"Token for {parse.GetValue(user)} saved to {session.Tokens.Path} (expires {result.Body.Str("expiresAt")})");
                }
            }
            else if (session.Json)
            {
                session.WriteJson(result.Body);
            }
            else
            {
                // Bare token on stdout: `export PDM_TOKEN=$(pdm token --user alice --role data-scientist)`.
                session.Output.WriteLine(token);
            }

            return ExitCodes.Success;
        }));
        return command;
    }
}
