using System.CommandLine;
using System.Globalization;

namespace PdM.Cli;

/// <summary>Options every command takes (recursive on the root), and how they resolve against the environment.</summary>
public sealed class GlobalOptions
{
    public const string DefaultServer = "http://127.0.0.1:5080";

    public Option<string?> Server { get; } = new("--server")
    {
        Description = $"Base URL of the PdM platform (env PDM_SERVER; default {DefaultServer}, where `make run` listens)",
        Recursive = true,
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = "Bearer access token (env PDM_TOKEN; else the one `pdm token --save` stored)",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the API's JSON instead of text (errors as {\"error\": …})",
        Recursive = true,
    };

    public Option<int> TimeoutSeconds { get; } = new("--timeout")
    {
        Description = "Seconds to wait for each HTTP answer",
        DefaultValueFactory = _ => 100,
        Recursive = true,
    };

    public void AddTo(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        root.Options.Add(Server);
        root.Options.Add(Token);
        root.Options.Add(Json);
        root.Options.Add(TimeoutSeconds);
    }

    /// <summary>The session for one invocation, or a usage message when the server URL is not an absolute http(s) URL.</summary>
    public (CliSession? Session, string? Problem) Resolve(ParseResult parse, CliEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(environment);
        var serverText = parse.GetValue(Server) ?? environment.Variable("PDM_SERVER") ?? DefaultServer;
        if (!Uri.TryCreate(serverText, UriKind.Absolute, out var server) || server.Scheme is not ("http" or "https"))
        {
            return (null, string.Create(CultureInfo.InvariantCulture, $"--server '{serverText}' is not an http(s) URL"));
        }

        var timeout = parse.GetValue(TimeoutSeconds);
        if (timeout <= 0)
        {
            return (null, "--timeout must be a positive number of seconds");
        }

        var tokens = environment.Tokens;
        var token = parse.GetValue(Token) ?? environment.Variable("PDM_TOKEN") ?? tokens.Read();
        return (new CliSession(server, token, parse.GetValue(Json), TimeSpan.FromSeconds(timeout), environment.Output, environment.Error, tokens), null);
    }
}

/// <summary>The process's surroundings, replaceable in tests: writers, environment variables, the token store.</summary>
public sealed class CliEnvironment(TextWriter output, TextWriter error, Func<string, string?> variable, TokenStore? tokens = null)
{
    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    public TokenStore Tokens { get; } = tokens ?? TokenStore.Default(variable);

    public string? Variable(string name) => variable(name) is { Length: > 0 } v ? v : null;

    public static CliEnvironment Process() => new(Console.Out, Console.Error, Environment.GetEnvironmentVariable);
}
