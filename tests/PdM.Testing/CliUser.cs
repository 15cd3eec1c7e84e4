using System.Text.Json.Nodes;
using PdM.Cli;

namespace PdM.Testing;

/// <summary>
/// One person's shell for the <c>pdm</c> CLI: their own token store and environment, the CLI run in-process against
/// <paramref name="server"/>, and what it printed kept for the assertions.
/// </summary>
public sealed class CliUser(string server)
{
    private readonly string _config = Path.Combine(Path.GetTempPath(), "pdm-cli-config-" + Guid.NewGuid().ToString("N"));

    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    public async Task<CliRun> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var env = new CliEnvironment(output, error, name => name == "PDM_SERVER" ? server : Environment.GetValueOrDefault(name), new TokenStore(_config));
        var code = await PdmCli.RunAsync(args, env);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    /// <summary>The whole command must succeed; the failure message shows what it printed.</summary>
    public async Task<CliRun> Ok(params string[] args)
    {
        var run = await Run(args);
        return run.ExitCode == ExitCodes.Success ? run : throw new InvalidOperationException($"pdm {string.Join(' ', args)} failed\n{run}");
    }

    /// <summary><c>pdm token --save</c> from the development issuer.</summary>
    public Task SignIn(string user, params string[] roles) =>
        Ok(["token", "--user", user, .. roles.SelectMany(r => new[] { "--role", r }), "--save"]);
}

public sealed record CliRun(int ExitCode, string Output, string Error)
{
    public JsonNode Json => JsonNode.Parse(Output)!;

    public override string ToString() => $"exit {ExitCode}\nstdout: {Output}\nstderr: {Error}";
}
