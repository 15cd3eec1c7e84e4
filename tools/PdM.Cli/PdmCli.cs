using System.CommandLine;

namespace PdM.Cli;

/// <summary>
/// <c>pdm</c>: the platform's HTTP API for data scientists. Each command maps to one or two API calls, prints text
/// or (<c>--json</c>) the API's JSON, and exits with a code from <see cref="ExitCodes"/>.
/// </summary>
public static class PdmCli
{
    public static async Task<int> RunAsync(string[] args, CliEnvironment environment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var global = new GlobalOptions();
        var root = new RootCommand("pdm — push, promote and deploy models, follow lineage, start training runs");
        global.AddTo(root);
        root.Subcommands.Add(TokenCommand.Create(global, environment));
        root.Subcommands.Add(ModelCommands.Create(global, environment));
        root.Subcommands.Add(LineageCommands.Create(global, environment));
        root.Subcommands.Add(TrainCommand.Create(global, environment));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors)
            {
                await environment.Error.WriteLineAsync("error: " + problem.Message).ConfigureAwait(false);
            }

            await environment.Error.WriteLineAsync("Run `pdm --help` for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = environment.Output, Error = environment.Error }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Wraps a command body: resolves the session (a bad --server is a usage error) and runs it.</summary>
    internal static Func<ParseResult, CancellationToken, Task<int>> Action(GlobalOptions global, CliEnvironment environment, Func<ParseResult, CliSession, CancellationToken, Task<int>> body) =>
        async (parse, cancellationToken) =>
        {
            var (session, problem) = global.Resolve(parse, environment);
            return session is null ? Usage(environment, problem!) : await body(parse, session, cancellationToken).ConfigureAwait(false);
        };

    private static int Usage(CliEnvironment environment, string message)
    {
        environment.Error.WriteLine("error: " + message);
        return ExitCodes.Usage;
    }
}
