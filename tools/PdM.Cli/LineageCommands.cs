using System.CommandLine;

namespace PdM.Cli;

/// <summary>
/// <c>pdm lineage work-order ID</c> (backward, to the data and the people) and <c>pdm lineage model NAME VERSION</c>
/// (forward, to deployments, decisions, work orders and outcomes).
/// </summary>
internal static class LineageCommands
{
    public static Command Create(GlobalOptions global, CliEnvironment environment)
    {
        var lineage = new Command("lineage", "Trace a work order back to its model, data and people, or a model forward to its decisions");

        var workOrder = new Argument<Guid>("id") { Description = "Work order id (as in /api/work-orders)" };
        var back = new Command("work-order", "The chain behind a work order: case, decision, model version, uploader, approver, training run, dataset") { workOrder };
        back.SetAction(PdmCli.Action(global, environment, (parse, session, cancellationToken) =>
            ShowAsync(session, $"api/lineage/work-orders/{parse.GetValue(workOrder):D}", cancellationToken)));
        lineage.Subcommands.Add(back);

        var name = new Argument<string>("name");
        var version = new Argument<string>("version");
        var forward = new Command("model", "Where a model version went: deployments, sites, decisions, work orders, outcomes") { name, version };
        forward.SetAction(PdmCli.Action(global, environment, (parse, session, cancellationToken) =>
            ShowAsync(session, $"api/lineage/models/{Uri.EscapeDataString(parse.GetValue(name)!)}/{Uri.EscapeDataString(parse.GetValue(version)!)}", cancellationToken)));
        lineage.Subcommands.Add(forward);
        return lineage;
    }

    private static async Task<int> ShowAsync(CliSession session, string path, CancellationToken cancellationToken)
    {
        using var api = session.Api();
        var result = await api.GetAsync(path, cancellationToken).ConfigureAwait(false);
        if (!result.IsSuccess)
        {
            return session.Fail(result);
        }

        if (session.Json)
        {
            session.WriteJson(result.Body);
            return ExitCodes.Success;
        }

        var graph = result.Body;
        var labels = graph.Arr("nodes").Items().ToDictionary(n => n.Str("id"), n => n.Str("label"), StringComparer.Ordinal);
        session.Line($"{graph.Str("root")} ({graph.Str("direction")})");
        session.Table(["KIND", "NODE", "LABEL"], [.. graph.Arr("nodes").Items().Select(n => new[] { n.Str("kind"), n.Str("id"), n.Str("label") })]);
        session.Output.WriteLine();
        foreach (var edge in graph.Arr("edges").Items())
        {
            session.Line($"{edge.Str("from")} --{edge.Str("kind")}--> {edge.Str("to")}");
        }

        return ExitCodes.Success;
    }
}
